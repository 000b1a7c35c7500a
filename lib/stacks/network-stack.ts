import { Fn, RemovalPolicy, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environment-config.ts';
import { logsKey } from '../constructs/logs-key.ts';

export interface NetworkStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * VPC with isolated private subnets only (no NAT): gateway endpoints for S3 and DynamoDB, interface
 * endpoints for what the functions and the MSK event source mapping reach (Lambda and STS for the
 * mapping, SQS for its on-failure destination and the poison queue, X-Ray for tracing), and flow logs.
 */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly endpointSecurityGroup: ec2.SecurityGroup;

  private readonly maxAzs: number;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { network } = props.config;
    this.maxAzs = network.maxAzs;
    const destroy = props.config.removalPolicy === 'destroy';

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(network.cidr),
      ...(network.availabilityZones
        ? { availabilityZones: network.availabilityZones }
        : { maxAzs: network.maxAzs }),
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    const logRemovalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.config.observability.logRetentionDays,
      removalPolicy: logRemovalPolicy,
      encryptionKey: logsKey(this, logRemovalPolicy),
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    const interfaceEndpoints: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
      Sts: ec2.InterfaceVpcEndpointAwsService.STS,
      Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
      XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
    };
    // HTTPS from inside the VPC only (the literal CIDR of the config, so checks can read it).
    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface endpoints: HTTPS from the VPC',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(
      ec2.Peer.ipv4(network.cidr),
      ec2.Port.tcp(443),
      'HTTPS from the VPC',
    );
    for (const [name, service] of Object.entries(interfaceEndpoints)) {
      this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service,
        privateDnsEnabled: true,
        securityGroups: [this.endpointSecurityGroup],
        open: false,
      });
    }
  }

  /**
   * An environment-agnostic stack gets only two AZs from CDK; select `maxAzs` of them with
   * Fn::GetAZs instead, so prod spans three without an AZ lookup (which needs credentials).
   */
  override get availabilityZones(): string[] {
    if (!Token.isUnresolved(this.region) && !Token.isUnresolved(this.account)) return super.availabilityZones;
    return Array.from({ length: this.maxAzs ?? 2 }, (_, i) => Fn.select(i, Fn.getAzs()));
  }
}

import { join } from 'node:path';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * How every Tidewater Lambda is bundled: esbuild from node_modules (never Docker), one ESM file
 * for Node 22, the AWS SDK v3 from the runtime. The banner gives the bundled CommonJS code what
 * it expects in an ES module: `require`, `__dirname` and `__filename` (those of the bundle).
 *
 * The Kafka client's wasm helper is bundled through its `bundled` entry (the bytes inlined).
 * `consumer: true` (the stage handlers) also ships what they read from files, which esbuild does
 * not copy: `parquet_wasm_bg.wasm` (parquet-wasm's Node build reads it from `${__dirname}` when
 * it loads) and `config/domains/` (the domain and its view files, loaded at the first invocation). Without
 * them a handler fails on AWS at its first import or call (ENOENT), which only a bundled run
 * shows: `test/cdk/kafka-consumer-function.test.ts` imports a bundle alone from another folder,
 * `test/integration/bundled-handler.test.ts` invokes one against the local stack.
 */
export function lambdaBundling(options: { readonly consumer?: boolean } = {}): nodejs.BundlingOptions {
  return {
    forceDockerBundling: false,
    format: nodejs.OutputFormat.ESM,
    target: 'node22',
    minify: true,
    sourceMap: true,
    mainFields: ['module', 'main'],
    banner: [
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      'const __dirname = import.meta.dirname;',
      'const __filename = import.meta.filename;',
    ].join(' '),
    externalModules: ['@aws-sdk/*'],
    // The Kafka client's CRC/compression wasm: its default entry reads `../dist/native.wasm`
    // relative to the module, outside a bundle's folder; its `bundled` entry inlines the bytes.
    esbuildArgs: { '--alias:@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
    ...(options.consumer === true
      ? {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) => [
              `cp "${join(inputDir, 'node_modules', 'parquet-wasm', 'node', 'parquet_wasm_bg.wasm')}" "${outputDir}/"`,
              // The event domains with the view files they name, read at the first invocation
              // (`domainsDir` looks beside the bundle): a domain loads its views, so both travel.
              `mkdir -p "${outputDir}/config/domains"`,
              `cp -R "${join(inputDir, 'config', 'domains')}"/. "${outputDir}/config/domains/"`,
            ],
          },
        }
      : {}),
  };
}

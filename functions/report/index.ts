export { type ChartData, type ChartPoint, chartSql, loadReportData, type ReportData } from './data.ts';
export { type ReportSummary, renderReport, reportChartIds } from './render.ts';

export { loadReportData, type ReportData } from './data.ts';
export { REPORT_CHARTS, type ReportSummary, renderReport } from './render.ts';

export * from './sources.js';
export * from './documents.js';
export * from './report.js';
export * from './format.js';
export * from './style.js';
export * from './audit.js';
export * from './output.js';
export * from './locate.js';

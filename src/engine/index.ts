export * from './k8s.js';
export * from './workload.js';
export * from './selector.js';
export * from './context.js';
export * from './policy.js';
export * from './config.js';
export * from './evaluate.js';
export * from './owners.js';

import { isRecord } from './k8s.js';
import type { LabelSelector } from './k8s.js';

/**
 * Kubernetes label-selector semantics (metav1.LabelSelectorAsSelector): all matchLabels
 * and all matchExpressions must hold; an empty selector `{}` matches everything. A selector
 * that is not an object, or an expression with an unknown operator, matches nothing,
 * as the API server would reject it.
 */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  if (!isRecord(selector)) return false;
  const { matchLabels, matchExpressions }: LabelSelector = selector;
  if (matchLabels !== undefined) {
    if (!isRecord(matchLabels)) return false;
    for (const [key, value] of Object.entries(matchLabels)) if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  }
  if (matchExpressions !== undefined) {
    if (!Array.isArray(matchExpressions)) return false;
    for (const expr of matchExpressions) {
      if (!isRecord(expr) || typeof expr.key !== 'string') return false;
      const values = Array.isArray(expr.values) ? expr.values : [];
      const has = Object.hasOwn(labels, expr.key);
      const value = labels[expr.key];
      switch (expr.operator) {
        case 'In':
          if (!has || !values.includes(value as string)) return false;
          break;
        case 'NotIn':
          if (has && values.includes(value as string)) return false;
          break;
        case 'Exists':
          if (!has) return false;
          break;
        case 'DoesNotExist':
          if (has) return false;
          break;
        default:
          return false;
      }
    }
  }
  return true;
}

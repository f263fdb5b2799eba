import { type WorkflowSpec } from '@weft/core';
import { Document, isScalar, isSeq, visit } from 'yaml';

/**
 * A spec as YAML the way people write it: `needs: [a, b]` on one line, and long
 * expressions never folded (a folded `${{ }}` is hard to read and to diff).
 */
export function workflowToYaml(spec: WorkflowSpec): string {
  const doc = new Document(spec);
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'needs' && isSeq(pair.value)) pair.value.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

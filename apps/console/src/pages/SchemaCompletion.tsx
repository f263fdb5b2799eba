import { type KeyboardEvent, type RefObject, useState } from 'react';
import workflowSchema from '@weft-schema/workflow-v1.json';
import { type Completion, complete, type JsonSchemaNode } from './schema-complete.util';

// Completion as you type in the draft editor, from the published workflow JSON Schema (bundled:
// the file `weft schema` prints, checked equal to the core's by test/console/schema-complete.spec.ts).
// Typing a key or a value opens the list; Ctrl+Space opens it anywhere; ↑/↓ move, Enter or Tab
// take the suggestion, Escape closes it.

const SCHEMA = workflowSchema as JsonSchemaNode;

interface Open {
  completion: Completion;
  index: number;
  caret: number;
  top: number;
  left: number;
}

/** Pixel position under the caret, in the textarea's parent (monospace, no wrapping). */
function caretBox(el: HTMLTextAreaElement, caret: number): { top: number; left: number } {
  const style = getComputedStyle(el);
  const lineHeight = Number.parseFloat(style.lineHeight) || Number.parseFloat(style.fontSize) * 1.5;
  const context = document.createElement('canvas').getContext('2d');
  if (context) context.font = `${style.fontSize} ${style.fontFamily}`;
  const charWidth = context?.measureText('0').width ?? 8;
  const before = el.value.slice(0, caret);
  const line = before.split('\n').length - 1;
  const col = before.length - before.lastIndexOf('\n') - 1;
  return {
    top: el.offsetTop + Number.parseFloat(style.paddingTop) + (line + 1) * lineHeight - el.scrollTop,
    left: Math.max(0, el.offsetLeft + Number.parseFloat(style.paddingLeft) + col * charWidth - el.scrollLeft),
  };
}

export interface SchemaCompletion {
  /** Call from the textarea's onKeyDown first: true when the list took the key. */
  onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>): boolean;
  /** Call after the text changed by typing. */
  onTyped(el: HTMLTextAreaElement, value: string): void;
  close(): void;
  /** ARIA for the textarea. */
  inputProps: { 'aria-autocomplete': 'list'; 'aria-controls': string; 'aria-expanded': boolean; 'aria-activedescendant'?: string };
  list: React.JSX.Element | null;
}

export function useSchemaCompletion(
  area: RefObject<HTMLTextAreaElement | null>,
  setText: (text: string) => void,
  known: Record<string, readonly string[]>,
  actionInputs: Record<string, JsonSchemaNode> = {},
): SchemaCompletion {
  const [open, setOpen] = useState<Open | null>(null);

  const show = (el: HTMLTextAreaElement, value: string, forced: boolean): void => {
    if (el.selectionStart !== el.selectionEnd) return setOpen(null);
    const caret = el.selectionStart;
    const completion = complete(SCHEMA, value, caret, known, actionInputs);
    // While typing: once a word is started, or right after `key: `; anywhere with Ctrl+Space.
    const typedSome = completion !== null && completion.from < caret;
    const valueSpot = completion?.suggestions[0]?.kind === 'value';
    if (!completion || completion.suggestions.length === 0 || !(forced || typedSome || valueSpot)) return setOpen(null);
    setOpen({ completion, index: 0, caret, ...caretBox(el, caret) });
  };

  const accept = (state: Open, index: number): void => {
    const el = area.current;
    const chosen = state.completion.suggestions[index];
    if (!el || !chosen) return;
    const value = el.value;
    const next = value.slice(0, state.completion.from) + chosen.insert + value.slice(state.caret);
    const caret = state.completion.from + chosen.insert.length;
    // The text and caret change in the element at once, then React is told: a caret set a frame
    // later lost keys typed in between (typing on right after Enter wrote them before the insert).
    el.value = next;
    el.focus();
    el.setSelectionRange(caret, caret);
    setText(next);
    setOpen(null);
    // A key just written: its values (an enum, a boolean) come next.
    if (chosen.kind === 'key') show(el, next, false);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): boolean => {
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      show(e.currentTarget, e.currentTarget.value, true);
      return true;
    }
    if (!open) return false;
    const count = open.completion.suggestions.length;
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        e.preventDefault();
        setOpen({ ...open, index: (open.index + (e.key === 'ArrowDown' ? 1 : count - 1)) % count });
        return true;
      case 'Enter':
      case 'Tab':
        e.preventDefault();
        accept(open, open.index);
        return true;
      case 'Escape':
        e.preventDefault();
        setOpen(null);
        return true;
      case 'ArrowLeft':
      case 'ArrowRight':
      case 'Home':
      case 'End':
        setOpen(null);
        return false;
      default:
        return false;
    }
  };

  const id = 'schema-completion';
  const list = open ? (
    <ul className="completion" role="listbox" id={id} aria-label={`Completions for ${open.completion.path.join('.') || 'the top level'}`} style={{ top: open.top, left: open.left }} data-testid="completion">
      {open.completion.suggestions.slice(0, 50).map((s, i) => (
        <li
          key={s.label}
          id={`${id}-${i}`}
          role="option"
          aria-selected={i === open.index}
          className={i === open.index ? 'active' : undefined}
          data-testid="completion-item"
          // Keep the focus in the editor: the click chooses, the textarea keeps the caret.
          onMouseDown={(e) => {
            e.preventDefault();
            accept(open, i);
          }}
        >
          <span className="mono">{s.label}</span> <span className="muted small">{s.detail}</span>
        </li>
      ))}
    </ul>
  ) : null;

  return {
    onKeyDown,
    onTyped: (el, value) => show(el, value, false),
    close: () => setOpen(null),
    inputProps: { 'aria-autocomplete': 'list', 'aria-controls': id, 'aria-expanded': open !== null, ...(open && { 'aria-activedescendant': `${id}-${open.index}` }) },
    list,
  };
}

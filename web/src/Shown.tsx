// <Shown value={...}/>: every string that comes from a message or from
// outside the console (headers, addresses, file names, engine labels,
// relay replies, audit details, server messages) is rendered through this.
// The value is isolated in a <bdi> (dir=auto, unicode-bidi: isolate), so it
// cannot reorder the text around it, and every hidden character is a
// visible, marked token (display.ts), so it cannot reorder or hide text
// inside it either. For attributes (title=, aria-label=) use displayText().

import type { JSX } from 'preact';
import { displayParts, finalExtension, tokenTitle } from './display';

export function Shown(props: { value: string | null | undefined; class?: string } & Omit<JSX.HTMLAttributes<HTMLElement>, 'value'>) {
  const { value, class: cls, ...rest } = props;
  const parts = displayParts(value);
  return (
    <bdi class={cls ? `shown ${cls}` : 'shown'} dir="auto" {...rest}>
      {parts.map((p, i) =>
        p.hidden === undefined ? (
          p.text
        ) : (
          <span key={i} class="hidden-char" title={tokenTitle(p.hidden)}>
            {p.text}
          </span>
        ),
      )}
    </bdi>
  );
}

// An attachment's real final extension, as a badge beside its name: the
// name may look like "reportexe.pdf"; the badge says ".exe".
export function ExtensionBadge({ name }: { name: string | null | undefined }) {
  const ext = finalExtension(name);
  return ext ? (
    <span class="ext-badge" data-testid="attachment-ext" title={`File name extension: ${ext}`}>
      <Shown value={ext} />
    </span>
  ) : (
    <span class="ext-badge ext-none" data-testid="attachment-ext" title="The file name has no extension">
      none
    </span>
  );
}

/**
 * Long URLs in a narrow sidebar: break opportunities after `/ . ? & = # :` (never inside a
 * host name's label or a word), so `https://id.example/realms/…` wraps where a person
 * would split it. CSS breaks mid-word only when one piece is still too long.
 */
import * as React from 'react';

/** `text` with a `<wbr>` after each URL separator. */
export function Breakable(props: { text: string }): JSX.Element {
  const parts = props.text.split(/(?<=[/.?&=#:])(?!\/)/);
  return (
    <>
      {parts.map((part, index) => (
        <React.Fragment key={index}>
          {index > 0 && <wbr />}
          {part}
        </React.Fragment>
      ))}
    </>
  );
}

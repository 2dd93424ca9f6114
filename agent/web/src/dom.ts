// Building the page from plain DOM elements: `h('td', {}, 'text')`. Text is always set as
// text, never parsed as HTML, so nothing read from the chain can inject markup.

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** A table with a header row; each row's cells in the header's order. */
export function table(headers: string[], rows: Child[][], attributes: Record<string, string> = {}): HTMLTableElement {
  return h(
    'table',
    attributes,
    h('thead', {}, h('tr', {}, headers.map((header) => h('th', {}, header)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell) => h('td', {}, cell))))),
  );
}

/** A button that runs `action` once at a time: disabled while it runs. */
export function button(label: string, name: string, action: () => Promise<void>): HTMLButtonElement {
  const element = h('button', { type: 'button', name }, label);
  element.addEventListener('click', async () => {
    element.disabled = true;
    try {
      await action();
    } finally {
      element.disabled = false;
    }
  });
  return element;
}

/**
 * A form whose Enter key runs `onEnter` instead of submitting the page (which would reload it
 * and forget who is signed in).
 */
export function form(attributes: Record<string, string>, onEnter: () => void, ...children: (Child | Child[])[]): HTMLFormElement {
  const element = h('form', attributes, ...children);
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    onEnter();
  });
  return element;
}

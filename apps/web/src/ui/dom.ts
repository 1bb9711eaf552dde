/** The element with `id`, checked to be of `type`; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement>(id: string, type: { new (): T } | typeof HTMLElement = HTMLElement): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`index.html: #${id} is missing or not a ${type.name}`);
  return el as T;
}

/** Create an element with a class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

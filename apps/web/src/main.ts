import './style.css';
import { App } from './app';

/** Anything that escapes the page's own handling still ends up on screen, never as a blank page. */
function fatal(text: string): void {
  const box = document.getElementById('error');
  const line = document.getElementById('error-text');
  if (box && line) {
    line.textContent = text;
    box.hidden = false;
  }
  document.body.dataset.state = 'error';
}

window.addEventListener('error', (event) => fatal(`unexpected error: ${event.message}`));
window.addEventListener('unhandledrejection', (event) =>
  fatal(`unexpected error: ${event.reason instanceof Error ? event.reason.message : String(event.reason)}`),
);

try {
  const app = new App();
  void app.guard(app.start());
} catch (error) {
  fatal(`the page could not start: ${error instanceof Error ? error.message : String(error)}`);
}

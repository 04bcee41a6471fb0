// Keyboard shortcuts of the reviewer page. Any element with data-hotkey="k" answers key k: links
// and buttons are clicked, text fields are focused (opening an enclosing <details>). Keys typed
// into a field are left alone; Escape leaves the field so shortcuts work again.
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof Element && target.closest("input, textarea, select, [contenteditable]")) {
    if (event.key === "Escape") target.blur();
    return;
  }
  const element = document.querySelector(`[data-hotkey="${CSS.escape(event.key)}"]`);
  if (!element) return;
  event.preventDefault();
  if (element.matches("input, textarea, select")) {
    const details = element.closest("details");
    if (details) details.open = true;
    element.focus();
  } else {
    element.click();
  }
});

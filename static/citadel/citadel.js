// Citadel's only script besides htmx. Loaded with the CSP nonce; no inline handlers anywhere.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) {
    el.form.requestSubmit();
  }
});

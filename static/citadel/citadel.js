// Citadel's only script besides htmx. Loaded with the CSP nonce; no inline handlers anywhere.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) {
    el.form.requestSubmit();
  }
});

// Upload drop zones: files dropped on [data-dropzone] go into its file input; the list shows them.
function showChosenFiles(zone, input) {
  const list = zone.querySelector("[data-dropzone-list]");
  if (!list) return;
  list.replaceChildren(
    ...Array.from(input.files).map((file) => {
      const item = document.createElement("li");
      item.textContent = `${file.name} (${Math.ceil(file.size / 1024)} KB)`;
      return item;
    }),
  );
}

document.addEventListener("dragover", (event) => {
  const zone = event.target instanceof Element && event.target.closest("[data-dropzone]");
  if (!zone) return;
  event.preventDefault();
  zone.classList.add("dragging");
});

document.addEventListener("dragleave", (event) => {
  const zone = event.target instanceof Element && event.target.closest("[data-dropzone]");
  if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
});

document.addEventListener("drop", (event) => {
  const zone = event.target instanceof Element && event.target.closest("[data-dropzone]");
  if (!zone) return;
  event.preventDefault();
  zone.classList.remove("dragging");
  const input = zone.querySelector("input[type=file]");
  if (input && event.dataTransfer && event.dataTransfer.files.length) {
    input.files = event.dataTransfer.files;
    showChosenFiles(zone, input);
  }
});

document.addEventListener("change", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.type === "file") {
    const zone = input.closest("[data-dropzone]");
    if (zone) showChosenFiles(zone, input);
  }
});

// Buttons with data-confirm ask before their form is sent.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const message = button && button.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});

// Answers: error responses of the ask form (400 bad question, 429 budget spent) carry a message
// meant for the page, so htmx swaps them like any other response.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  const form = event.detail.requestConfig && event.detail.requestConfig.elt;
  if ((status === 400 || status === 429) && form && form.closest("[hx-target='#answer-slot']")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Streaming answers: [data-stream-url] opens server-sent events; "delta" appends text (as text,
// never HTML), "final" swaps in the checked answer card, "failure" shows the server's message.
// A dropped connection stops the spinner and links to the question, so nothing spins forever.
function startAnswerStream(card) {
  if (card.dataset.streamStarted) return;
  card.dataset.streamStarted = "1";
  const out = card.querySelector("[data-stream-text]");
  const status = card.querySelector("[data-stream-status]");
  const lost = card.querySelector("[data-stream-lost]");
  const stopForm = card.querySelector("[data-stream-cancel]");
  const source = new EventSource(card.dataset.streamUrl);
  let finished = false;
  const finish = () => {
    finished = true;
    source.close();
    if (stopForm) stopForm.hidden = true;
  };
  source.addEventListener("delta", (e) => {
    out.textContent += JSON.parse(e.data);
  });
  source.addEventListener("final", (e) => {
    finish();
    // The ask page's history (hx-trigger="question-asked from:body") shows the answer's state.
    document.body.dispatchEvent(new CustomEvent("question-asked"));
    const { url } = JSON.parse(e.data);
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: card, swap: "outerHTML" });
    } else {
      window.location.assign(url);
    }
  });
  source.addEventListener("failure", (e) => {
    finish();
    document.body.dispatchEvent(new CustomEvent("question-asked"));
    status.textContent = JSON.parse(e.data).message;
  });
  source.onerror = () => {
    if (finished) return;
    finish();
    status.textContent = "";
    if (lost) lost.hidden = false;
  };
}

function startAnswerStreams(root) {
  if (!(root instanceof Element)) return;
  if (root.matches("[data-stream-url]")) startAnswerStream(root);
  root.querySelectorAll("[data-stream-url]").forEach(startAnswerStream);
}

document.addEventListener("DOMContentLoaded", () => startAnswerStreams(document.body));
document.addEventListener("htmx:load", (event) => startAnswerStreams(event.detail.elt));

// Document pickers ([data-picker]): the search box hides the documents whose words do not hold
// what is typed (chosen ones stay chosen), and the count says how many are chosen.
function pickerUpdate(picker) {
  const filter = picker.querySelector("[data-picker-filter]");
  const words = filter ? filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean) : [];
  let shown = 0;
  picker.querySelectorAll("[data-picker-item]").forEach((item) => {
    const text = item.textContent.toLowerCase();
    item.hidden = !words.every((word) => text.includes(word));
    if (!item.hidden) shown += 1;
  });
  const none = picker.querySelector("[data-picker-none]");
  if (none) none.hidden = shown > 0;
  const count = picker.querySelector("[data-picker-count]");
  if (count) count.textContent = `${picker.querySelectorAll("input[type=checkbox]:checked").length} chosen`;
}

["input", "change"].forEach((type) =>
  document.addEventListener(type, (event) => {
    const picker = event.target instanceof Element && event.target.closest("[data-picker]");
    if (picker) pickerUpdate(picker);
  }),
);
// A page shown again from the history keeps its checked boxes: the count follows them.
window.addEventListener("pageshow", () => document.querySelectorAll("[data-picker]").forEach(pickerUpdate));

// Asking on the ask page: the next question follows up in the thread the last one joined (the
// server names it in HX-Trigger's "thread-continued").
// The box is emptied for the next question, and the note offering a new thread shows when the page
// itself does not already show the thread.
document.addEventListener("thread-continued", (event) => {
  const field = document.getElementById("id_thread");
  if (!field || !event.detail || !event.detail.value) return;
  field.value = event.detail.value;
  const box = document.querySelector("[data-ask-box]");
  if (box) box.value = "";
  const note = document.getElementById("thread-note");
  if (note && !document.getElementById("thread")) note.hidden = false;
});

// Ctrl+Enter (Cmd+Enter on a Mac) in the question box asks, as the Ask button does.
document.addEventListener("keydown", (event) => {
  const box = event.target instanceof Element && event.target.closest("[data-ask-box]");
  if (box && event.key === "Enter" && (event.ctrlKey || event.metaKey) && box.form) {
    event.preventDefault();
    box.form.requestSubmit();
  }
});

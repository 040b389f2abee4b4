// js_on_load of the chat / search-results HTML components (delegated: survives re-renders).
// A [data-cite] element ("chunk_id|start|end") fires the custom 'cite' event to Python;
// a [data-copy] button copies the answer text.
function copyText(text, button) {
  const done = () => {
    const label = button.textContent;
    button.textContent = "نُسخ ✓";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  const fallback = () => {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    area.remove();
    done();
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, fallback);
  } else {
    fallback();
  }
}

element.addEventListener("click", (event) => {
  const cite = event.target.closest("[data-cite]");
  if (cite && element.contains(cite)) {
    event.preventDefault();
    trigger("cite", { ref: cite.dataset.cite });
    return;
  }
  const copy = event.target.closest("[data-copy]");
  if (copy && element.contains(copy)) {
    event.preventDefault();
    copyText(copy.dataset.copy, copy);
  }
});

element.addEventListener("keydown", (event) => {
  const item = event.target.closest("li[data-cite]");
  if (item && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    item.click();
  }
});

// The conversation keeps its newest message in view while an answer streams in.
watch("value", () => {
  const chat = element.querySelector(".chat");
  if (chat) chat.scrollTop = chat.scrollHeight;
});

// js_on_load of a viewer HTML component: after each new document is shown,
// scroll the highlighted span (<mark class="hl">) into view. A ?cite= link fills the lookup viewer
// before its tab is first shown: the component then mounts with the span already there (no change
// to watch), so it is revealed once on load too, and waits while the tab is still hidden.
function reveal(tries) {
  const mark = element.querySelector("mark.hl");
  if (!mark) return;
  if (mark.getClientRects().length === 0) {  // not laid out yet: hidden tab
    if (tries < 50) setTimeout(() => reveal(tries + 1), 100);
    return;
  }
  mark.scrollIntoView({ block: "center", inline: "nearest" });
}
watch("value", () => requestAnimationFrame(() => reveal(0)));
requestAnimationFrame(() => reveal(0));

// js_on_load of a viewer HTML component: after each new document is shown,
// scroll the highlighted span (<mark class="hl">) into view.
watch("value", () => {
  requestAnimationFrame(() => {
    const mark = element.querySelector("mark.hl");
    if (mark) mark.scrollIntoView({ block: "center", inline: "nearest" });
  });
});

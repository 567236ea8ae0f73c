// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.value);
        button.textContent = "已复制";
      } catch (err) {
        source.closest("details").open = true;
        source.select();
        button.textContent = "请按 Ctrl+C 复制";
      }
      setTimeout(() => { button.textContent = "复制全文"; }, 2000);
    });
  }
  // Changing the mode re-runs the search.
  for (const radio of document.querySelectorAll(".modes input[type=radio]")) {
    radio.addEventListener("change", () => { if (radio.form.q.value.trim()) radio.form.submit(); });
  }
});

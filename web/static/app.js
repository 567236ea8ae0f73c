// Progressive enhancement only: every page works without this file.
"use strict";

const SUGGEST_DELAY_MS = 120; // wait for a pause in typing before asking for suggestions
const SUGGEST_LEAD_CHARS = 16; // a match further into a title than this is shown with the start cut

// ---------------------------------------------------------------- copy
// The clipboard API exists only in secure contexts (https, localhost). An intranet server
// opened over plain http by host name has none, so select the text and use execCommand;
// if even that is refused, leave the text selected and say how to copy it.
async function copyFrom(source, status) {
  const text = source.value;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return say(status, "已复制全文");
    } catch (err) { /* fall through to the selection */ }
  }
  const details = source.closest("details");
  if (details) details.open = true;
  source.focus();
  source.select();
  source.setSelectionRange(0, text.length);
  let copied = false;
  try { copied = document.execCommand("copy"); } catch (err) { copied = false; }
  say(status, copied ? "已复制全文" : "已选中全文，请按 Ctrl+C 复制（手机上长按选择“复制”）", !copied);
}

function say(status, message, stay) {
  status.textContent = message;
  status.classList.toggle("warn", Boolean(stay));
  clearTimeout(status.timer);
  if (!stay) status.timer = setTimeout(() => { status.textContent = ""; }, 3000);
}

// Without this script the control is a link to the text (the browser opens its <details>).
function setupCopy() {
  for (const control of document.querySelectorAll("[data-copy]")) {
    const source = document.getElementById(control.dataset.copy);
    const status = document.getElementById(control.getAttribute("aria-describedby")) || control;
    if (!source) continue;
    control.setAttribute("role", "button");
    control.addEventListener("click", (event) => { event.preventDefault(); copyFrom(source, status); });
    control.addEventListener("keydown", (event) => {
      if (event.key === " ") { event.preventDefault(); copyFrom(source, status); }
    });
  }
}

// ---------------------------------------------------------------- suggestions
// ARIA combobox with a listbox popup: focus stays in the box, aria-activedescendant marks the
// option; arrows move, Enter picks (and searches), Escape closes. Nothing is asked while an
// input method is composing (pinyin letters are not what the writer means).
function setupSuggest(input) {
  const list = document.createElement("ul");
  list.id = "suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "输入提示");
  list.hidden = true;
  input.after(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  let options = [];
  let active = -1;
  let timer = 0;
  let controller = null;
  let composing = false;

  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const highlight = (n) => {
    active = n;
    options.forEach((li, i) => li.setAttribute("aria-selected", String(i === n)));
    if (n >= 0) {
      input.setAttribute("aria-activedescendant", options[n].id);
      options[n].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  };
  const pick = (n) => {
    input.value = options[n].dataset.value;
    close();
    input.form.requestSubmit();
  };
  const render = (suggestions, typed) => {
    list.replaceChildren();
    const word = typed.trim().split(/\s+/).pop().replace(/^[-"“]+/, "").toLowerCase();
    options = suggestions.map((s, n) => {
      const li = document.createElement("li");
      li.id = `suggestion-${n}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.value = s.text;
      const label = document.createElement("span");
      label.className = "text";
      const at = word ? s.text.toLowerCase().lastIndexOf(word) : -1;
      if (at >= 0) {
        // A long title is shown from a little before the match, so the match is always in view.
        const from = at > SUGGEST_LEAD_CHARS ? at - SUGGEST_LEAD_CHARS / 2 : 0;
        const mark = document.createElement("mark");
        mark.textContent = s.text.slice(at, at + word.length);
        label.append((from ? "…" : "") + s.text.slice(from, at), mark, s.text.slice(at + word.length));
      } else {
        label.textContent = s.text;
      }
      li.append(label);
      if (s.kind === "title") {
        const tag = document.createElement("span");
        tag.className = "kind-tag";
        tag.textContent = "标题";
        li.append(tag);
      }
      li.addEventListener("mousedown", (event) => { event.preventDefault(); pick(n); });
      li.addEventListener("mousemove", () => { if (active !== n) highlight(n); });
      list.append(li);
      return li;
    });
    active = -1;
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", String(options.length > 0));
  };
  const ask = async () => {
    const typed = input.value;
    if (!typed.trim() || /\s$/.test(typed)) return close();
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch(`${input.dataset.suggest}?${new URLSearchParams({ q: typed })}`,
                                   { signal: controller.signal, headers: { Accept: "application/json" } });
      if (!response.ok) return close();
      const data = await response.json();
      if (input.value === typed && document.activeElement === input) render(data.suggestions, typed);
    } catch (err) {
      if (err.name !== "AbortError") close();
    }
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(ask, SUGGEST_DELAY_MS); };

  input.addEventListener("compositionstart", () => { composing = true; });
  input.addEventListener("compositionend", () => { composing = false; later(); });
  input.addEventListener("input", (event) => { if (!composing && !event.isComposing) later(); });
  input.addEventListener("blur", () => { clearTimeout(timer); close(); });
  input.addEventListener("keydown", (event) => {
    if (event.isComposing || composing) return;
    const open = !list.hidden && options.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) { if (event.key === "ArrowDown") ask(); return; }
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = active + step;
      highlight(next < -1 ? options.length - 1 : next >= options.length ? -1 : next);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault();
      pick(active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close();
    }
  });
}

// ---------------------------------------------------------------- search page
function setupSearchPage() {
  const box = document.querySelector(".searchbox input[name=q]");
  if (!box) return;
  if (box.dataset.suggest) setupSuggest(box);
  // After Back, the box shows the query of the page being shown, not what was typed later.
  window.addEventListener("pageshow", (event) => {
    const navigation = performance.getEntriesByType("navigation")[0];
    if (event.persisted || (navigation && navigation.type === "back_forward")) {
      box.value = new URLSearchParams(window.location.search).get("q") ?? "";
    }
  });
  // Changing the mode re-runs the search.
  for (const radio of document.querySelectorAll(".modes input[type=radio]")) {
    radio.addEventListener("change", () => { if (radio.form.q.value.trim()) radio.form.submit(); });
  }
  // The help popover closes with Escape (focus back on its summary) or a click elsewhere.
  const help = document.getElementById("syntax-help");
  if (help) {
    help.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && help.open) { help.open = false; help.querySelector("summary").focus(); }
    });
    document.addEventListener("click", (event) => { if (help.open && !help.contains(event.target)) help.open = false; });
  }
  // Filters sit behind a button on phones and beside the results on wider screens. CSS shows the
  // panel there even when closed (::details-content); opening it also tells assistive technology.
  const filters = document.getElementById("filters");
  if (filters) {
    const wide = window.matchMedia("(min-width: 801px)");
    filters.open = wide.matches;
    wide.addEventListener("change", () => { filters.open = wide.matches; });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setupCopy();
  setupSearchPage();
});

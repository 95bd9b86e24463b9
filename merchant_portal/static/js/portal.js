// Small progressive enhancements; every page works without this file.
"use strict";

function showToken() {
  const token = document.querySelector("[data-testid='new-token']");
  if (token) {
    token.addEventListener("focus", () => token.select());
    token.focus();
  }
}

// Evidence upload: drop many files, each sent on its own with a progress bar and its result.
function enhanceEvidenceForm() {
  const form = document.getElementById("evidence-form");
  const zone = document.getElementById("dropzone");
  const results = document.getElementById("upload-results");
  const template = document.getElementById("progress-template");
  if (!form || !zone || !results || !template) return;
  const input = form.querySelector("input[type=file]");

  const sendOne = (file) => new Promise((resolve) => {
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelector(".name").textContent = file.name;
    results.prepend(row);
    const data = new FormData(form);
    data.delete("files");
    data.append("files", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) row.querySelector("progress").value = (100 * event.loaded) / event.total;
    });
    request.addEventListener("loadend", () => {
      let outcome = { accepted: false, message: request.statusText || "—" };
      try { outcome = JSON.parse(request.responseText)[0]; } catch (error) { /* keep the status text */ }
      row.classList.remove("pending");
      row.classList.add(outcome.accepted ? "accepted" : "refused");
      row.querySelector(".result-mark").textContent = outcome.accepted ? "✓" : "✕";
      row.querySelector("progress").remove();
      row.querySelector(".message").textContent = "— " + outcome.message;
      if (outcome.accepted && outcome.html) showInLocker(outcome.html);
      resolve(outcome.accepted);
    });
    request.send(data);
  });

  const sendAll = async (files) => {
    for (const file of files) await sendOne(file);
  };

  form.addEventListener("submit", (event) => {
    if (!input.files.length) return;
    event.preventDefault();
    sendAll(Array.from(input.files));
    input.value = "";
  });
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("dragging")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    sendAll(Array.from(event.dataTransfer.files));
  });
}

// A file just accepted joins the locker's gallery in place, and its reading is followed.
function showInLocker(html) {
  const gallery = document.querySelector("[data-testid='gallery']");
  if (!gallery) return;
  gallery.insertAdjacentHTML("beforeend", html);
  const count = document.querySelector("[data-testid='locker-count']");
  if (count) count.textContent = String(gallery.querySelectorAll("[data-testid='evidence-item']").length);
  const empty = document.querySelector("[data-empty-locker]");
  if (empty) empty.hidden = true;
  followReadings();
}

document.addEventListener("DOMContentLoaded", () => {
  showToken();
  enhanceEvidenceForm();
});

// Redaction: drag rectangles over the image; the form's text field holds them in percent.
function enhanceRedaction() {
  const stage = document.getElementById("redact-stage");
  const image = document.getElementById("redact-image");
  const field = document.getElementById("boxes");
  const clear = document.getElementById("clear-boxes");
  if (!stage || !image || !field) return;
  const parse = () => field.value.split("\n").map((line) => line.split(",").map(Number))
    .filter((box) => box.length === 4 && box.every((v) => !Number.isNaN(v)));
  const render = () => {
    stage.querySelectorAll(".redact-box").forEach((node) => node.remove());
    for (const [left, top, width, height] of parse()) {
      const box = document.createElement("div");
      box.className = "redact-box";
      box.style.left = left + "%";
      box.style.top = top + "%";
      box.style.width = width + "%";
      box.style.height = height + "%";
      stage.appendChild(box);
    }
  };
  let start = null;
  const point = (event) => {
    const rect = image.getBoundingClientRect();
    return [
      Math.min(100, Math.max(0, (100 * (event.clientX - rect.left)) / rect.width)),
      Math.min(100, Math.max(0, (100 * (event.clientY - rect.top)) / rect.height)),
    ];
  };
  stage.addEventListener("pointerdown", (event) => { start = point(event); event.preventDefault(); });
  window.addEventListener("pointerup", (event) => {
    if (!start) return;
    const end = point(event);
    const box = [Math.min(start[0], end[0]), Math.min(start[1], end[1]),
      Math.abs(end[0] - start[0]), Math.abs(end[1] - start[1])];
    start = null;
    if (box[2] < 0.5 || box[3] < 0.5) return;
    const line = box.map((v) => v.toFixed(2)).join(", ");
    field.value = field.value.trim() ? field.value.trim() + "\n" + line : line;
    render();
  });
  field.addEventListener("input", render);
  if (clear) clear.addEventListener("click", () => { field.value = ""; render(); });
  // Suggested redactions: dashed until answered, solid when covered, faint when left visible.
  const suggestions = Array.from(document.querySelectorAll("[data-suggestion]"));
  const drawSuggestions = () => {
    stage.querySelectorAll(".suggest-box").forEach((node) => node.remove());
    for (const row of suggestions) {
      const [left, top, width, height] = row.dataset.box.split(",").map((v) => Number(v) * 100);
      const answer = row.querySelector("input:checked");
      const box = document.createElement("div");
      box.className = `suggest-box ${answer ? "suggest-" + answer.value : ""}`;
      Object.assign(box.style, { left: left + "%", top: top + "%", width: width + "%", height: height + "%" });
      box.title = row.querySelector(".suggestion-text").textContent;
      stage.appendChild(box);
    }
  };
  for (const row of suggestions) {
    row.addEventListener("change", (event) => {
      if (event.target.value === "moved") {
        const line = row.dataset.box.split(",").map((v) => (Number(v) * 100).toFixed(2)).join(", ");
        if (!field.value.includes(line)) field.value = field.value.trim() ? field.value.trim() + "\n" + line : line;
        render();
      }
      drawSuggestions();
    });
  }
  const coverAll = document.getElementById("cover-all");
  if (coverAll) coverAll.addEventListener("click", () => {
    for (const row of suggestions) row.querySelector('input[value="accepted"]').checked = true;
    drawSuggestions();
  });
  const draw = () => { render(); drawSuggestions(); };
  if (image.complete) draw(); else image.addEventListener("load", draw);
}

document.addEventListener("DOMContentLoaded", enhanceRedaction);

// Appeal builder: save the draft a moment after each change, and say so; the side panel
// (readiness, budget, characters, exhibits) comes back from the server with each save.
function enhanceAutosave() {
  const form = document.getElementById("appeal-form");
  const status = document.getElementById("autosave");
  if (!form || !status) return;
  const panel = document.getElementById("builder-status");
  let timer = null;
  const save = async () => {
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({}));
    status.textContent = response.ok ? `${form.dataset.saved || status.dataset.saved} ${body.saved}` : status.dataset.failed;
    if (response.ok && panel && body.status_html) panel.innerHTML = body.status_html;
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("rows-changed", later);
}

// Appeal builder: add and remove rebuttal rows in place; rows are lettered as they stand.
function enhanceRows() {
  const rows = document.getElementById("rebuttal-rows");
  const template = document.getElementById("row-template");
  const add = document.getElementById("add-row");
  if (!rows || !template || !add) return;
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const max = Number(rows.dataset.max || 26);
  const visible = () => [...rows.querySelectorAll("[data-row]")].filter((row) => !row.hidden);
  const reletter = () => {
    const shown = visible();
    shown.forEach((row, place) => {
      const letter = row.querySelector("[data-row-letter]");
      if (letter) letter.textContent = letters[place] || "…";
      const remove = row.querySelector("[data-remove-row]");
      if (remove) remove.hidden = shown.length < 2;
    });
    add.hidden = rows.querySelectorAll("[data-row]").length >= max;
  };
  const countPicked = (row) => {
    const count = row.querySelector("[data-picked-count]");
    if (count) count.textContent = count.dataset.text.replace("{n}", row.querySelectorAll("input[type=checkbox]:checked").length);
  };
  const wire = (row) => {
    row.addEventListener("change", () => countPicked(row));
    const remove = row.querySelector("[data-remove-row]");
    if (remove) remove.addEventListener("click", () => {
      // An emptied row is left out when the draft is saved; the others keep their places.
      for (const field of row.querySelectorAll("textarea")) field.value = "";
      for (const box of row.querySelectorAll("input[type=checkbox]")) box.checked = false;
      row.hidden = true;
      reletter();
      rows.dispatchEvent(new Event("rows-changed", { bubbles: true }));
      const next = visible()[0];
      if (next) next.querySelector("textarea").focus();
    });
  };
  add.addEventListener("click", () => {
    const index = rows.querySelectorAll("[data-row]").length;
    const html = template.innerHTML.replaceAll("__i__", String(index));
    rows.insertAdjacentHTML("beforeend", html);
    const row = rows.lastElementChild;
    wire(row);
    reletter();
    row.querySelector("textarea").focus();
  });
  for (const row of rows.querySelectorAll("[data-row]")) wire(row);
  add.hidden = false;
  reletter();
}

document.addEventListener("DOMContentLoaded", enhanceRows);
document.addEventListener("DOMContentLoaded", enhanceAutosave);

// Evidence bundle: follow a build in progress, then show the downloads.
function followBundle() {
  const card = document.getElementById("bundle");
  if (!card || !["queued", "running"].includes(card.dataset.state)) return;
  const bar = card.querySelector("progress");
  const percent = card.querySelector("[data-bundle-percent]");
  const poll = async () => {
    const response = await fetch(card.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (body.state === "ready" || body.state === "failed") {
      window.location.reload();
      return;
    }
    if (bar && typeof body.percent === "number") bar.value = body.percent;
    if (percent && typeof body.percent === "number") percent.textContent = body.percent;
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 700);
}

document.addEventListener("DOMContentLoaded", followBundle);

// Evidence locker: follow the reading of new pictures; the page works meanwhile.
let followingReadings = false;
function followReadings() {
  const gallery = document.querySelector("[data-readings-url]");
  if (!gallery || followingReadings) return;
  const pending = () => gallery.querySelectorAll('[data-reading="queued"], [data-reading="reading"]');
  if (!pending().length) return;
  followingReadings = true;
  const poll = async () => {
    const response = await fetch(gallery.dataset.readingsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const states = response.ok ? await response.json().catch(() => []) : [];
    for (const entry of states) {
      const row = gallery.querySelector(`[data-item="${entry.id}"]`);
      if (!row || row.dataset.reading === entry.state) continue;
      row.dataset.reading = entry.state;
      row.className = `small reading reading-${entry.state}`;
      const spinner = row.querySelector(".spinner");
      if (spinner && !["queued", "reading"].includes(entry.state)) spinner.remove();
      row.querySelector(".reading-text").textContent = entry.label;
      if (entry.state === "done" && row.dataset.redactUrl && row.dataset.redactLabel) {
        const link = document.createElement("a");
        link.href = row.dataset.redactUrl;
        link.textContent = row.dataset.redactLabel;
        row.append(" · ", link);
      }
    }
    if (pending().length) setTimeout(poll, 1500);
    else followingReadings = false;
  };
  setTimeout(poll, 1000);
}

document.addEventListener("DOMContentLoaded", followReadings);

// Review screen: frame each search hit where it is on its picture (fractions of the image).
function placeHits() {
  for (const box of document.querySelectorAll(".hit-box[data-box]")) {
    const [left, top, width, height] = box.dataset.box.split(",").map((v) => Number(v) * 100);
    Object.assign(box.style, { left: left + "%", top: top + "%", width: width + "%", height: height + "%" });
  }
}

document.addEventListener("DOMContentLoaded", placeHits);

// A refused form: bring the summary of what to put right into view, and read it out.
function focusErrorSummary() {
  const summary = document.getElementById("error-summary");
  if (!summary) return;
  summary.scrollIntoView({ block: "start" });
  summary.focus({ preventScroll: true });
  for (const link of summary.querySelectorAll("a[href^='#']")) {
    link.addEventListener("click", (event) => {
      const field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      const closed = field.closest("details:not([open])");
      if (closed) closed.open = true;
      field.scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
    });
  }
}

document.addEventListener("DOMContentLoaded", focusErrorSummary);

// Review screen: how many rows are decided, in the ruling bar that stays in view.
function countDecisions() {
  const bar = document.querySelector("[data-testid='ruling-bar']");
  if (!bar) return;
  const progress = bar.querySelector(".ruling-progress");
  const rows = document.querySelectorAll("[data-row-decision]");
  const update = () => {
    let done = 0;
    for (const row of rows) {
      const chosen = row.querySelector("input[type=radio]:checked");
      const reason = row.querySelector("textarea");
      if (chosen && reason && reason.value.trim()) done += 1;
    }
    progress.textContent = progress.dataset.decidedText
      .replace("{done}", String(done)).replace("{total}", String(rows.length));
    bar.classList.toggle("all-decided", done === rows.length);
  };
  for (const row of rows) row.addEventListener("input", update);
  for (const row of rows) row.addEventListener("change", update);
  update();
}

document.addEventListener("DOMContentLoaded", countDecisions);

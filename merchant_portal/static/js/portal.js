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
      resolve(outcome.accepted);
    });
    request.send(data);
  });

  const sendAll = async (files) => {
    let accepted = 0;
    for (const file of files) {
      if (await sendOne(file)) accepted += 1;
    }
    if (accepted) {
      const link = document.createElement("a");
      link.href = window.location.pathname;
      link.textContent = form.dataset.refresh || "↻";
      link.className = "button small";
      link.setAttribute("data-testid", "refresh-gallery");
      results.prepend(link);
    }
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

document.addEventListener("DOMContentLoaded", () => {
  showToken();
  enhanceEvidenceForm();
});

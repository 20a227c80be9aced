// StreamRec web app enhancements (plain JS, no build step). Without it every form still works.
"use strict";

// Posters: hide an image that failed (offline, or TMDB has none) so the placeholder with the
// title and year shows. Images that failed before this script ran are caught by the scan.
function watchPosters(root) {
  root.querySelectorAll(".poster img").forEach(function (img) {
    if (img.complete && img.naturalWidth === 0) img.classList.add("failed");
    img.addEventListener("error", function () { img.classList.add("failed"); });
  });
}

// Swap in fresh HTML for every [data-refresh] block (the home rows after a rating).
function refreshBlocks() {
  document.querySelectorAll("[data-refresh]").forEach(function (el) {
    fetch(el.dataset.refresh, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { el.innerHTML = html; watchPosters(el); })
      .catch(function () { /* keep what is on screen */ });
  });
}

// Rating forms post in the background, say "Saved", then refresh the suggestions.
function enhanceRating(form) {
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var status = form.querySelector(".status");
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (row) {
        if (status) status.textContent = "Saved " + row.rating.toFixed(1) + " ★";
        form.querySelector("button").textContent = "Update";
        refreshBlocks();
      })
      .catch(function (code) { if (status) status.textContent = "Not saved (" + code + ")"; });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  watchPosters(document);
  document.querySelectorAll("form[data-enhance=rate]").forEach(enhanceRating);
  if (document.querySelector("[data-refresh][data-lazy]")) refreshBlocks();
});

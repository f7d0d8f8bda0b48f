// Small progressive enhancements; every action also works without JavaScript.
(function () {
  "use strict";
  // The id of the badge or link that opened the task panel: it is replaced by the
  // out-of-band refresh after a move, so focus goes back to it by id.
  let opener = null;

  function panel() {
    return document.getElementById("panel");
  }

  function isOpen() {
    const p = panel();
    return Boolean(p && p.firstElementChild);
  }

  function focusHeading(root) {
    const heading = root && root.querySelector("h1, h2");
    if (!heading) return;
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus();
  }

  function closePanel() {
    const p = panel();
    if (!p) return;
    p.replaceChildren();
    let back = opener ? document.getElementById(opener) : null;
    if (!back) {
      // the row that opened it has gone (the task left the list): the page's heading
      back = document.querySelector("main h1");
      if (back && !back.hasAttribute("tabindex")) back.setAttribute("tabindex", "-1");
    }
    opener = null;
    if (back) back.focus();
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && isOpen()) {
      event.preventDefault();
      closePanel();
    }
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-panel]")) closePanel();
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const target = event.detail.target;
    const elt = event.detail.elt;
    if (target && target.id === "panel" && elt && elt.id) opener = elt.id;
  });

  // After the panel opens, or a task is answered in place (in the panel or on its own
  // page), focus the task's heading: focus never drops to the top of the page.
  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.target;
    if (!target || !target.id) return;
    if (target.id === "panel") {
      focusHeading(target);
    } else if (target.id.startsWith("task-")) {
      focusHeading(document.getElementById(target.id));
    }
  });

  // A wide table in a scroll region says that it scrolls (its hint shows) only when it does.
  function markOverflow(region) {
    region.classList.toggle("overflows", region.scrollWidth > region.clientWidth + 1);
  }
  function watchRegions() {
    const regions = document.querySelectorAll("[data-scroll-region]");
    if (!regions.length) return;
    regions.forEach(markOverflow);
    if ("ResizeObserver" in window) {
      const observer = new ResizeObserver((entries) => entries.forEach((e) => markOverflow(e.target)));
      regions.forEach((r) => observer.observe(r));
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watchRegions);
  } else {
    watchRegions();
  }
})();

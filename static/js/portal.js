// Small progressive enhancements; every action also works without JavaScript.
(function () {
  function closePanel() {
    const panel = document.getElementById("panel");
    if (panel) panel.innerHTML = "";
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePanel();
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-panel]")) closePanel();
  });
})();

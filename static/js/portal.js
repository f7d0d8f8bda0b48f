// Small progressive enhancements; every action also works without JavaScript.
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    const panel = document.getElementById("panel");
    if (panel && panel.innerHTML.trim()) panel.innerHTML = "";
  }
});

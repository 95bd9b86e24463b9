// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  const token = document.querySelector("[data-testid='new-token']");
  if (token) {
    token.addEventListener("focus", () => token.select());
    token.focus();
  }
});

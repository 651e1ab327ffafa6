// Hazard pages (no inline script: the Content-Security-Policy forbids it).
document.addEventListener("DOMContentLoaded", () => {
  // The report form: the 判定依据 picker and the major-hazard note only for a major hazard.
  const level = document.querySelector("[data-level-switch]");
  if (level) {
    const toggle = () => {
      const major = level.value === "major";
      document.querySelectorAll("[data-major-only]").forEach((el) => el.classList.toggle("d-none", !major));
    };
    level.addEventListener("change", toggle);
    toggle();
  }
});

// Behaviour without inline script (the Content-Security-Policy forbids it).
document.addEventListener("DOMContentLoaded", () => {
  // Filter forms submit when a select changes.
  document.querySelectorAll("form[data-autosubmit] select").forEach((el) => {
    el.addEventListener("change", () => el.form.requestSubmit());
  });
  // Buttons that ask before they act.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.dataset.confirm)) event.preventDefault();
    });
  });
  // Menu badges (the 工作台's counts), loaded after the page so that no page pays for them.
  const nav = document.querySelector("[data-badges-url]");
  if (nav) {
    fetch(nav.dataset.badgesUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : {}))
      .then((counts) => {
        nav.querySelectorAll("[data-nav-badge]").forEach((el) => {
          const count = counts[el.dataset.navBadge] || 0;
          el.textContent = count;
          el.hidden = count === 0;
        });
        // A dropdown's badge is the sum of its entries'.
        nav.querySelectorAll("[data-nav-group]").forEach((group) => {
          let total = 0;
          group.querySelectorAll("[data-nav-badge]").forEach((el) => {
            total += counts[el.dataset.navBadge] || 0;
          });
          const badge = group.querySelector("[data-nav-group-badge]");
          badge.textContent = total;
          badge.hidden = total === 0;
        });
      })
      .catch(() => {});
  }
});

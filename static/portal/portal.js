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
  // Searchable checkbox lists: typing in the filter box hides the entries that do not contain the text;
  // the count follows the ticked boxes.
  document.querySelectorAll("[data-picker]").forEach((picker) => {
    const filter = picker.querySelector("[data-picker-filter]");
    const items = Array.from(picker.querySelectorAll("[data-picker-item]"));
    const empty = picker.querySelector("[data-picker-empty]");
    const count = picker.querySelector("[data-picker-count]");
    const recount = () => {
      if (count) count.textContent = picker.querySelectorAll("input[type=checkbox]:checked").length;
    };
    if (filter) {
      filter.addEventListener("input", () => {
        const text = filter.value.trim().toLowerCase();
        let shown = 0;
        items.forEach((item) => {
          const match = !text || item.textContent.toLowerCase().includes(text);
          item.hidden = !match;
          if (match) shown += 1;
        });
        if (empty) empty.hidden = shown > 0;
      });
      // Enter in the filter box filters; it does not submit the form.
      filter.addEventListener("keydown", (event) => {
        if (event.key === "Enter") event.preventDefault();
      });
    }
    picker.addEventListener("change", recount);
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

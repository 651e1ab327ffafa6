// 日期多选：a textarea marked data-date-list (one ISO date per line, what the server parses) becomes a
// date picker with an 添加 button and a list of chosen dates, each removable. Without JavaScript the
// textarea stays as it is. Loaded as a static file: the Content-Security-Policy forbids inline script.
(() => {
  const parse = (text) =>
    text
      .split(/[\s,，]+/)
      .map((part) => part.trim())
      .filter((part) => part !== "");

  const enhance = (area) => {
    if (area.dataset.dateListReady) return;
    area.dataset.dateListReady = "1";
    area.hidden = true;
    const box = document.createElement("div");
    box.className = "date-list";
    const row = document.createElement("div");
    row.className = "input-group input-group-sm mb-2";
    const picker = document.createElement("input");
    picker.type = "date";
    picker.className = "form-control";
    picker.setAttribute("aria-label", "选择日期");
    if (area.dataset.min) picker.min = area.dataset.min;
    if (area.dataset.max) picker.max = area.dataset.max;
    const add = document.createElement("button");
    add.type = "button";
    add.className = "btn btn-outline-primary";
    add.textContent = "添加日期";
    row.append(picker, add);
    const list = document.createElement("ul");
    list.className = "list-inline mb-0";
    const count = document.createElement("div");
    count.className = "form-text";
    box.append(row, list, count);
    area.after(box);

    let dates = [...new Set(parse(area.value))].sort();
    const render = () => {
      area.value = dates.join("\n");
      list.replaceChildren(
        ...dates.map((value) => {
          const item = document.createElement("li");
          item.className = "list-inline-item badge text-bg-light border mb-1";
          item.textContent = value + " ";
          const remove = document.createElement("button");
          remove.type = "button";
          remove.className = "btn-close btn-close-sm";
          remove.setAttribute("aria-label", "删除 " + value);
          remove.addEventListener("click", () => {
            dates = dates.filter((d) => d !== value);
            render();
          });
          item.append(remove);
          return item;
        }),
      );
      count.textContent = dates.length ? "已选 " + dates.length + " 天" : "尚未选择日期";
    };
    const addPicked = () => {
      if (!picker.value) return;
      if (!dates.includes(picker.value)) dates = [...dates, picker.value].sort();
      picker.value = "";
      render();
    };
    add.addEventListener("click", addPicked);
    picker.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        addPicked();
      }
    });
    render();
  };

  const start = () => document.querySelectorAll("textarea[data-date-list]").forEach(enhance);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

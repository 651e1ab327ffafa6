/* 报表看板: ECharts from static/vendor, data from the json_script element #dashboard-data.
   Every bar opens the list behind it. No inline script (CSP). */
(function () {
  "use strict";

  function go(url) {
    if (url) { window.location.href = url; }
  }

  var builders = {
    levels: function (data) {
      return {
        option: {
          tooltip: { trigger: "axis", renderMode: "richText" },
          legend: { top: 0 },
          grid: { left: 40, right: 16, top: 32, bottom: 60 },
          xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0, rotate: 30 } },
          yAxis: { type: "value", minInterval: 1 },
          series: data.series.map(function (s) {
            return { name: s.name, type: "bar", stack: "level", data: s.data };
          })
        },
        click: function (p) { go(data.series[p.seriesIndex].urls[p.dataIndex]); }
      };
    },
    rates: function (data) {
      return {
        option: {
          tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: function (v) { return v + "%"; } },
          grid: { left: 48, right: 16, top: 16, bottom: 32 },
          xAxis: { type: "category", data: data.categories },
          yAxis: { type: "value", max: 100 },
          series: [{ type: "bar", data: data.data, barMaxWidth: 60, label: { show: true, position: "top", formatter: "{c}%" } }]
        },
        click: function (p) { go(data.urls[p.dataIndex]); }
      };
    },
    coverage: function (data) {
      return {
        option: {
          tooltip: { trigger: "axis", renderMode: "richText" },
          legend: { top: 0 },
          grid: { left: 48, right: 16, top: 32, bottom: 40 },
          xAxis: { type: "category", data: data.categories, axisLabel: { interval: 0 } },
          yAxis: { type: "value", max: 100 },
          series: [
            { name: "覆盖率", type: "bar", data: data.data, barMaxWidth: 48 },
            { name: "指标", type: "line", step: "middle", data: data.required, symbol: "none" }
          ]
        },
        click: function (p) { go(data.urls[p.dataIndex]); }
      };
    },
    deliverables: function (data) {
      return {
        option: {
          tooltip: { trigger: "axis", renderMode: "richText" },
          legend: { top: 0 },
          grid: { left: 40, right: 16, top: 32, bottom: 40 },
          xAxis: { type: "category", data: data.categories },
          yAxis: { type: "value", minInterval: 1 },
          series: data.series.map(function (s) {
            return { name: s.name, type: "bar", stack: "state", data: s.data };
          })
        },
        click: function () { go(data.url); }
      };
    }
  };

  function init() {
    var source = document.getElementById("dashboard-data");
    if (!source || typeof echarts === "undefined") { return; }
    var all = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var name = el.getAttribute("data-chart");
      var build = builders[name];
      if (!build || !all[name]) { return; }
      var made = build(all[name]);
      var chart = echarts.init(el, null, { renderer: "canvas" });
      if (!all[name].categories || all[name].categories.length === 0) {
        made.option.title = { text: "暂无数据", left: "center", top: "middle", textStyle: { color: "#6c757d", fontSize: 14 } };
      }
      chart.setOption(made.option);
      chart.on("click", made.click);
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

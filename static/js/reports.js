// Pay report charts: hours as bars (left axis), each currency's amount as a line (right
// axis; currencies are never added together). Data comes from json_script blocks.
(function () {
  "use strict";
  var colours = ["#1f5fbf", "#1b7a3a", "#b42318", "#8a5a00", "#6b3fb0"];
  function draw(canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    var datasets = [{
      type: "bar", label: "Hours", data: data.hours.map(Number), yAxisID: "hours",
      backgroundColor: "rgba(31, 95, 191, 0.35)", borderColor: "#1f5fbf", borderWidth: 1
    }];
    Object.keys(data.amounts).forEach(function (currency, index) {
      var colour = colours[(index + 1) % colours.length];
      datasets.push({
        type: "line", label: "Amount " + currency, data: data.amounts[currency].map(Number),
        yAxisID: "amount", borderColor: colour, backgroundColor: colour, tension: 0.2
      });
    });
    new window.Chart(canvas, {
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          hours: { type: "linear", position: "left", beginAtZero: true, title: { display: true, text: "hours" } },
          amount: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "amount" } }
        }
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();

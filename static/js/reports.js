// Pay report charts: a bar chart of hours, and a bar chart of each currency's amount on a
// canvas of its own (currencies never share an axis or a sum). Data comes from json_script
// blocks as strings; tooltips show those strings (two decimals), not the floats drawn.
(function () {
  "use strict";
  var HOURS_COLOUR = "#1f5fbf";
  var AMOUNT_COLOURS = ["#1b7a3a", "#8a5a00", "#6b3fb0", "#b42318"];

  function series(canvas, data) {
    var currency = canvas.dataset.currency;
    if (!currency) {
      return { label: "Hours", axis: "hours", figures: data.hours, colour: HOURS_COLOUR };
    }
    var index = Object.keys(data.amounts).indexOf(currency);
    return {
      label: "Amount (" + currency + ")", axis: currency, figures: data.amounts[currency],
      colour: AMOUNT_COLOURS[index % AMOUNT_COLOURS.length]
    };
  }

  function draw(canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    var shown = series(canvas, data);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: shown.label, data: shown.figures.map(Number),
          backgroundColor: shown.colour, borderColor: shown.colour, borderWidth: 1
        }]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) { return shown.label + ": " + shown.figures[item.dataIndex]; } } }
        },
        scales: { y: { beginAtZero: true, title: { display: true, text: shown.axis } } }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();

// Draw every chart on the page from its Vega-Lite spec (built in Python with Altair).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".pbc-chart[data-spec]").forEach(function (element) {
    var spec = JSON.parse(element.getAttribute("data-spec"));
    vegaEmbed(element, spec, { actions: false, renderer: "svg" }).then(function () {
      element.setAttribute("data-rendered", "true");
    }).catch(function (error) {
      element.textContent = "The chart could not be drawn: " + error;
    });
  });
});

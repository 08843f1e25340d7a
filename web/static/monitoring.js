// The monitoring dashboard: Chart.js charts beside their tables, and the heat map
// on the SOP diagram (bpmn-js overlays keyed by element id). All numbers and
// labels come formatted from the server; this only draws.
(function () {
  const charts = JSON.parse(document.getElementById('chart-data').textContent);
  const colours = { blue: '#0b5cad', grey: 'rgba(154, 165, 177, 0.45)' };

  function percentAxis() {
    return { min: 0, max: 100, ticks: { callback: (v) => v + '%' } };
  }

  if (window.Chart) {
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
    const bar = (id, data) => {
      const canvas = document.getElementById(id);
      if (!canvas) return;
      new Chart(canvas, {
        type: 'bar',
        data: { labels: data.labels,
                datasets: [{ label: data.label, data: data.values, backgroundColor: colours.blue }] },
        options: { scales: { y: percentAxis() }, plugins: { legend: { display: false } } },
      });
      canvas.dataset.ready = 'true';
    };
    bar('chart-steps', charts.steps);
    bar('chart-bidang', charts.bidang);
    const trend = document.getElementById('chart-trend');
    if (trend) {
      new Chart(trend, {
        data: {
          labels: charts.trend.labels,
          datasets: [
            { type: 'line', label: charts.trend.label, data: charts.trend.values, borderColor: colours.blue,
              backgroundColor: colours.blue, spanGaps: true, yAxisID: 'y' },
            { type: 'bar', label: charts.trend.count_label, data: charts.trend.counts,
              backgroundColor: colours.grey, yAxisID: 'count' },
          ],
        },
        options: { scales: { y: percentAxis(), count: { position: 'right', beginAtZero: true, grid: { display: false } } } },
      });
      trend.dataset.ready = 'true';
    }
  }

  // Screen pixels above the diagram for the badges drawn over the top lane's steps.
  const BADGE_ROOM = 36;

  (async function heatmap() {
    const container = document.getElementById('heatmap');
    if (!container || !window.BpmnJS) return;
    const heat = JSON.parse(document.getElementById('heatmap-data').textContent);
    const viewer = new BpmnJS({ container });
    try {
      const response = await fetch(container.dataset.src, { credentials: 'same-origin' });
      await viewer.importXML(await response.text());
    } catch (err) {
      container.textContent = (container.dataset.error || 'Diagram tidak dapat ditampilkan:') + ' ' + err.message;
      return;
    }
    const canvas = viewer.get('canvas');
    const overlays = viewer.get('overlays');
    const registry = viewer.get('elementRegistry');
    window.alurFitReadable(canvas, container, BADGE_ROOM);
    for (const [id, entry] of Object.entries(heat)) {
      if (!registry.get(id)) continue;
      canvas.addMarker(id, 'heat-' + entry.level);
      const badge = document.createElement('div');
      badge.className = 'heat-badge heat-' + entry.level;
      badge.dataset.step = entry.step;
      badge.textContent = entry.label;
      badge.title = entry.title;
      // Never drawn smaller than screen size, so the numbers stay readable on the whole diagram; above the
      // step's top edge (.heat-badge lifts it by its own height), off the step's name, which a long name
      // writes a little past that edge.
      overlays.add(id, 'heat', { position: { top: -12, left: 0 }, scale: { min: 1, max: 1.5 }, html: badge });
    }
    container.dataset.ready = 'true';
  })();
})();

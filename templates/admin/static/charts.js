// charts.js redraws the report charts of a page (a dashboard's cards, a report's page) with the vendored
// ECharts, which only those pages load. The server has drawn each chart as SVG, with the bars' list as its
// legend and accessible form; each chart's <div class="chart"> holds a data island (a
// <script type="application/json">, see platform/admin/charts.go) with its kind, labels, values and
// drill-down links. Here each becomes an ECharts chart of the same kind, drawn as SVG, in the page's
// language, resized with its box, and a click on a bar, slice or point opens the same list its row links
// to. The server's SVG is hidden, not removed; the list stays. Nothing here is inline or evaluated, and
// ECharts' tooltips are drawn as SVG text (richText) rather than HTML with style attributes, so the
// admin's content security policy holds as it is.
(function () {
  'use strict';
  if (typeof echarts === 'undefined') return;

  var locale = (document.documentElement.lang || '').toLowerCase().indexOf('zh') === 0 ? 'ZH' : 'EN';
  // The colours of admin.css: a bar's (.report-bars rect) and the pie's slices (.slice-0 … .slice-7), so
  // a slice matches its swatch in the list.
  var barColour = '#4c78a8';
  var sliceColours = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d'];
  var text = { color: '#1f2328', fontSize: 12 };
  var tooltip = { trigger: 'item', renderMode: 'richText', confine: true };

  function fmt(v) {
    return Math.round(v * 100) / 100;
  }

  // option returns the ECharts option of a chart's data, and the height its box needs (in pixels).
  function option(d) {
    switch (d.kind) {
      case 'bar':
        // Horizontal bars, in the list's order, so long labels (physicians, months and states) stay readable
        // on a phone.
        return {
          height: Math.max(120, d.values.length * 26 + 40),
          option: {
            color: [barColour], textStyle: text, tooltip: tooltip, animationDuration: 300,
            grid: { left: 8, right: 48, top: 8, bottom: 24, outerBoundsMode: 'same' },
            xAxis: { type: 'value', minInterval: 1 },
            yAxis: { type: 'category', inverse: true, data: d.labels, axisLabel: { width: 140, overflow: 'truncate' } },
            series: [{ type: 'bar', data: d.values, barMaxWidth: 18, label: { show: true, position: 'right', formatter: function (p) { return fmt(p.value); } } }]
          }
        };
      case 'line':
        return {
          height: 240,
          option: {
            color: [barColour], textStyle: text, tooltip: tooltip, animationDuration: 300,
            grid: { left: 8, right: 16, top: 24, bottom: 8, outerBoundsMode: 'same' },
            xAxis: { type: 'category', data: d.labels, boundaryGap: false },
            yAxis: { type: 'value', minInterval: 1 },
            series: [{ type: 'line', data: d.values, symbolSize: 8, triggerLineEvent: true, label: { show: d.values.length <= 12, position: 'top' } }]
          }
        };
      case 'pie':
        return {
          height: 240,
          option: {
            color: sliceColours, textStyle: text, tooltip: tooltip, animationDuration: 300,
            series: [{ type: 'pie', radius: ['0%', '70%'], data: d.labels.map(function (l, i) { return { name: l, value: d.values[i] }; }),
              // A thin slice's percentage would not fit in it; the list says its value.
              label: { position: 'inside', color: '#fff', formatter: function (p) { return p.percent >= 6 ? fmt(p.percent) + '%' : ''; } } }]
          }
        };
      case 'funnel':
        var hi = Math.max.apply(null, d.values.concat([0]));
        return {
          height: Math.max(160, d.values.length * 36 + 16),
          option: {
            color: sliceColours, textStyle: text, tooltip: tooltip, animationDuration: 300,
            series: [{ type: 'funnel', sort: 'none', min: 0, max: hi || 1, minSize: '8%', left: 8, right: 8, top: 8, bottom: 8, gap: 2,
              data: d.labels.map(function (l, i) { return { name: l, value: d.values[i] }; }),
              label: { position: 'inside', formatter: '{b}: {c}', color: '#fff' } }]
          }
        };
      case 'heatmap':
        var most = 0;
        d.cells.forEach(function (c) { most = Math.max(most, c[2]); });
        return {
          height: 240,
          option: {
            textStyle: text, animationDuration: 300,
            tooltip: { trigger: 'item', renderMode: 'richText', confine: true,
              formatter: function (p) { return (d.segments[p.dataIndex] || '') + ' ' + p.value[2]; } },
            grid: { left: 8, right: 8, top: 8, bottom: 8, outerBoundsMode: 'same' },
            xAxis: { type: 'category', data: d.x, splitArea: { show: true } },
            yAxis: { type: 'category', data: d.y, splitArea: { show: true } },
            visualMap: { show: false, min: 0, max: most || 1, inRange: { color: ['#e3edf7', barColour] } },
            series: [{ type: 'heatmap', data: d.cells, label: { show: true } }]
          }
        };
    }
    return null;
  }

  // draw replaces the server's drawing in box (a div.chart with a data island) with an ECharts chart.
  function draw(box) {
    if (box.hasAttribute('data-echarts')) return;
    var island = box.querySelector('script.chart-data');
    if (!island) return;
    var d, o;
    try {
      d = JSON.parse(island.textContent);
      o = option(d);
    } catch (err) {
      console.error('charts:', err);
      return;
    }
    if (!o) return;
    var el = document.createElement('div');
    el.className = 'echart echart-' + d.kind;
    // The list beside the chart says the same to a screen reader, with links.
    el.setAttribute('aria-hidden', 'true');
    el.style.height = o.height + 'px'; // CSSOM, which the content security policy allows
    island.after(el);
    box.setAttribute('data-echarts', 'on');
    box.classList.add('echarts-on', 'echarts-' + d.kind);
    var chart = echarts.init(el, null, { renderer: 'svg', locale: locale });
    chart.on('click', function (p) {
      var link = d.links && d.links[p.dataIndex];
      if (link) window.location.assign(link);
    });
    // Once drawn (animations done), the box says so: tests wait for it before they click.
    chart.on('finished', function () { box.setAttribute('data-echarts', 'drawn'); });
    o.option.aria = { enabled: false };
    chart.setOption(o.option);
    if (window.ResizeObserver) new ResizeObserver(function () { chart.resize(); }).observe(el);
  }

  function drawAll(root) {
    if (root.matches && root.matches('div.chart[data-chart]')) draw(root);
    root.querySelectorAll('div.chart[data-chart]').forEach(draw);
  }

  window.addEventListener('resize', function () {
    document.querySelectorAll('div.echart').forEach(function (el) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
  // Content htmx swaps in gets its charts drawn; content it removes lets go of its charts.
  document.addEventListener('htmx:load', function (ev) { drawAll(ev.target); });
  document.addEventListener('htmx:beforeCleanupElement', function (ev) {
    var chart = ev.target.classList && ev.target.classList.contains('echart') && echarts.getInstanceByDom(ev.target);
    if (chart) chart.dispose();
  });
  drawAll(document);
  document.body.setAttribute('data-charts', 'done');
})();

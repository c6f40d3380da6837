using System.Globalization;
using System.Text;
using System.Xml;
using Messaging.Bench.Results;

namespace Messaging.Bench.Charts;

/// <summary>
/// Renders a sweep as an SVG written by hand (no charting package is available here): on the left
/// latency p50/p95/p99 against offered rate (both axes logarithmic, rates double per step), on the
/// right sends/s and deliveries/s achieved against offered rate. Each series is a
/// <c>&lt;g data-series="..."&gt;</c> so tests and tools can find it.
/// </summary>
public static class BenchChart
{
    private const double Width = 960;
    private const double Height = 420;
    private const double PanelWidth = 400;
    private const double PanelHeight = 280;
    private const double PanelTop = 70;
    private const double LeftPanelX = 70;
    private const double RightPanelX = 540;
    private const double PointRadius = 3.5;

    private static readonly (string Name, string Color)[] LatencySeries =
    [
        ("p50", "#2b8a3e"),
        ("p95", "#e67700"),
        ("p99", "#c92a2a"),
    ];

    private static readonly (string Name, string Color)[] ThroughputSeries =
    [
        ("sends/s", "#1c7ed6"),
        ("deliveries/s", "#862e9c"),
    ];

    public static byte[] Render(IReadOnlyList<StepResult> steps, string title)
    {
        ArgumentOutOfRangeException.ThrowIfZero(steps.Count);
        using var output = new MemoryStream();
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true };
        using (var svg = XmlWriter.Create(output, settings))
        {
            svg.WriteStartElement("svg", "http://www.w3.org/2000/svg");
            Attribute(svg, "width", Width);
            Attribute(svg, "height", Height);
            svg.WriteAttributeString("viewBox", Invariant($"0 0 {Width} {Height}"));
            svg.WriteAttributeString("font-family", "sans-serif");
            svg.WriteAttributeString("font-size", "12");
            Rectangle(svg, 0, 0, Width, Height, "#ffffff", "none");
            Text(svg, Width / 2, 24, title, "middle", 15);
            Text(svg, Width / 2, 44, Subtitle(steps), "middle", 11);

            var rates = new double[steps.Count];
            for (var i = 0; i < steps.Count; i++)
            {
                rates[i] = steps[i].OfferedRate;
            }

            var xAxis = Axis.Logarithmic(Min(rates), Max(rates));

            var latencies = new double[LatencySeries.Length][];
            for (var s = 0; s < LatencySeries.Length; s++)
            {
                latencies[s] = new double[steps.Count];
                for (var i = 0; i < steps.Count; i++)
                {
                    latencies[s][i] = Math.Max(0.01, s switch { 0 => steps[i].LatencyMs.P50, 1 => steps[i].LatencyMs.P95, _ => steps[i].LatencyMs.P99 });
                }
            }

            var latencyAxis = Axis.Logarithmic(Min(latencies[0]), Max(latencies[^1]));
            Panel(svg, LeftPanelX, "latency (ms, log) vs offered sends/s", xAxis, latencyAxis, rates, LatencySeries, latencies);

            var throughput = new double[ThroughputSeries.Length][];
            throughput[0] = new double[steps.Count];
            throughput[1] = new double[steps.Count];
            for (var i = 0; i < steps.Count; i++)
            {
                throughput[0][i] = steps[i].SendsPerSecond;
                throughput[1][i] = steps[i].DeliveriesPerSecond;
            }

            var throughputAxis = Axis.Linear(0, Math.Max(1, Math.Max(Max(throughput[0]), Max(throughput[1]))));
            Panel(svg, RightPanelX, "achieved per second vs offered sends/s", xAxis, throughputAxis, rates, ThroughputSeries, throughput);
            svg.WriteEndElement();
        }

        return output.ToArray();
    }

    private static string Subtitle(IReadOnlyList<StepResult> steps)
    {
        var first = steps[0];
        return Invariant($"{first.Scenario}, {first.Users} users, groups of {first.GroupSize}, {first.EdgeNodes} Edge nodes, {first.DurationSeconds:0} s per step; {first.Machine.Cores} cores, {first.Machine.MemoryGiB:0} GiB; {first.At:yyyy-MM-dd}");
    }

    private static void Panel(
        XmlWriter svg,
        double left,
        string caption,
        Axis xAxis,
        Axis yAxis,
        double[] rates,
        (string Name, string Color)[] series,
        double[][] values)
    {
        var bottom = PanelTop + PanelHeight;
        svg.WriteStartElement("g");
        svg.WriteAttributeString("class", "panel");
        Rectangle(svg, left, PanelTop, PanelWidth, PanelHeight, "#fafafa", "#868e96");
        Text(svg, left + (PanelWidth / 2), PanelTop - 8, caption, "middle", 12);

        foreach (var tick in xAxis.Ticks())
        {
            var x = left + (xAxis.Position(tick) * PanelWidth);
            Line(svg, x, bottom, x, bottom + 5, "#868e96");
            Text(svg, x, bottom + 18, Label(tick), "middle", 10);
        }

        foreach (var tick in yAxis.Ticks())
        {
            var y = bottom - (yAxis.Position(tick) * PanelHeight);
            Line(svg, left, y, left + PanelWidth, y, "#e9ecef");
            Text(svg, left - 6, y + 4, Label(tick), "end", 10);
        }

        for (var s = 0; s < series.Length; s++)
        {
            var (name, color) = series[s];
            svg.WriteStartElement("g");
            svg.WriteAttributeString("class", "series");
            svg.WriteAttributeString("data-series", name);
            var points = new StringBuilder();
            for (var i = 0; i < rates.Length; i++)
            {
                var x = left + (xAxis.Position(rates[i]) * PanelWidth);
                var y = bottom - (yAxis.Position(values[s][i]) * PanelHeight);
                points.Append(CultureInfo.InvariantCulture, $"{x:0.#},{y:0.#} ");
            }

            svg.WriteStartElement("polyline");
            svg.WriteAttributeString("points", points.ToString().TrimEnd());
            svg.WriteAttributeString("fill", "none");
            svg.WriteAttributeString("stroke", color);
            svg.WriteAttributeString("stroke-width", "2");
            svg.WriteEndElement();
            for (var i = 0; i < rates.Length; i++)
            {
                svg.WriteStartElement("circle");
                Attribute(svg, "cx", left + (xAxis.Position(rates[i]) * PanelWidth));
                Attribute(svg, "cy", bottom - (yAxis.Position(values[s][i]) * PanelHeight));
                Attribute(svg, "r", PointRadius);
                svg.WriteAttributeString("fill", color);
                svg.WriteElementString("title", Invariant($"{name} at {rates[i]:0} offered: {values[s][i]:0.##}"));
                svg.WriteEndElement();
            }

            var legendY = PanelTop + 16 + (s * 16);
            Line(svg, left + 10, legendY - 4, left + 28, legendY - 4, color, 2);
            Text(svg, left + 32, legendY, name, "start", 11);
            svg.WriteEndElement();
        }

        svg.WriteEndElement();
    }

    private static string Label(double value) => value switch
    {
        >= 1_000_000 => Invariant($"{value / 1_000_000:0.#}M"),
        >= 1_000 => Invariant($"{value / 1_000:0.#}k"),
        >= 1 => Invariant($"{value:0.#}"),
        _ => Invariant($"{value:0.##}"),
    };

    private static void Rectangle(XmlWriter svg, double x, double y, double width, double height, string fill, string stroke)
    {
        svg.WriteStartElement("rect");
        Attribute(svg, "x", x);
        Attribute(svg, "y", y);
        Attribute(svg, "width", width);
        Attribute(svg, "height", height);
        svg.WriteAttributeString("fill", fill);
        svg.WriteAttributeString("stroke", stroke);
        svg.WriteEndElement();
    }

    private static void Line(XmlWriter svg, double x1, double y1, double x2, double y2, string stroke, double width = 1)
    {
        svg.WriteStartElement("line");
        Attribute(svg, "x1", x1);
        Attribute(svg, "y1", y1);
        Attribute(svg, "x2", x2);
        Attribute(svg, "y2", y2);
        svg.WriteAttributeString("stroke", stroke);
        Attribute(svg, "stroke-width", width);
        svg.WriteEndElement();
    }

    private static void Text(XmlWriter svg, double x, double y, string text, string anchor, double size)
    {
        svg.WriteStartElement("text");
        Attribute(svg, "x", x);
        Attribute(svg, "y", y);
        svg.WriteAttributeString("text-anchor", anchor);
        Attribute(svg, "font-size", size);
        svg.WriteString(text);
        svg.WriteEndElement();
    }

    private static void Attribute(XmlWriter svg, string name, double value) =>
        svg.WriteAttributeString(name, value.ToString("0.#", CultureInfo.InvariantCulture));

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static double Min(double[] values)
    {
        var min = double.MaxValue;
        foreach (var value in values)
        {
            min = Math.Min(min, value);
        }

        return min;
    }

    private static double Max(double[] values)
    {
        var max = double.MinValue;
        foreach (var value in values)
        {
            max = Math.Max(max, value);
        }

        return max;
    }

    /// <summary>Maps a value to 0..1 along an axis, linear or logarithmic, with round-number ticks.</summary>
    private sealed record Axis(double Low, double High, bool IsLogarithmic)
    {
        public static Axis Logarithmic(double low, double high)
        {
            var floor = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(low, 0.01))));
            var ceiling = Math.Pow(10, Math.Ceiling(Math.Log10(Math.Max(high, floor * 10))));
            return new Axis(floor, ceiling, true);
        }

        public static Axis Linear(double low, double high)
        {
            var step = NiceStep(high - low);
            return new Axis(low, Math.Ceiling(high / step) * step, false);
        }

        public double Position(double value)
        {
            if (IsLogarithmic)
            {
                var clamped = Math.Clamp(value, Low, High);
                return (Math.Log10(clamped) - Math.Log10(Low)) / (Math.Log10(High) - Math.Log10(Low));
            }

            return (Math.Clamp(value, Low, High) - Low) / (High - Low);
        }

        public IEnumerable<double> Ticks()
        {
            if (IsLogarithmic)
            {
                for (var decade = Low; decade <= High * 1.0001; decade *= 10)
                {
                    yield return decade;
                    if (decade * 2 < High)
                    {
                        yield return decade * 2;
                    }

                    if (decade * 5 < High)
                    {
                        yield return decade * 5;
                    }
                }

                yield break;
            }

            var step = NiceStep(High - Low);
            for (var value = Low; value <= High + (step / 2); value += step)
            {
                yield return value;
            }
        }

        private static double NiceStep(double span)
        {
            var rough = Math.Max(span, 1) / 5;
            var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
            var normalized = rough / magnitude;
            var nice = normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10;
            return nice * magnitude;
        }
    }
}

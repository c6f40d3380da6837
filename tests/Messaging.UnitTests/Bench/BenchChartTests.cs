using System.Xml.Linq;
using Messaging.Bench.Charts;

namespace Messaging.UnitTests.Bench;

public sealed class BenchChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void The_chart_is_valid_svg_with_a_series_for_each_percentile_and_each_rate()
    {
        var steps = new[] { StepResultJsonTests.Step(250, 5), StepResultJsonTests.Step(500, 9), StepResultJsonTests.Step(1000, 20), StepResultJsonTests.Step(2000, 80) };

        var document = XDocument.Parse(System.Text.Encoding.UTF8.GetString(BenchChart.Render(steps, "test chart")));

        document.Root!.Name.Should().Be(Svg + "svg");
        var series = document.Descendants(Svg + "g")
            .Where(g => (string?)g.Attribute("class") == "series")
            .ToDictionary(g => (string)g.Attribute("data-series")!);
        series.Keys.Should().BeEquivalentTo(["p50", "p95", "p99", "sends/s", "deliveries/s"]);
        foreach (var (name, group) in series)
        {
            var points = ((string)group.Element(Svg + "polyline")!.Attribute("points")!).Split(' ');
            points.Should().HaveCount(steps.Length, name);
            group.Elements(Svg + "circle").Should().HaveCount(steps.Length, name);
        }
    }

    [Fact]
    public void Higher_latency_is_drawn_higher_up()
    {
        var steps = new[] { StepResultJsonTests.Step(250, 5), StepResultJsonTests.Step(500, 500) };

        var document = XDocument.Parse(System.Text.Encoding.UTF8.GetString(BenchChart.Render(steps, "t")));

        var p99 = document.Descendants(Svg + "g").Single(g => (string?)g.Attribute("data-series") == "p99");
        var y = p99.Elements(Svg + "circle").Select(c => double.Parse((string)c.Attribute("cy")!, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        y[1].Should().BeLessThan(y[0]);
    }

    [Fact]
    public void The_title_and_the_machine_appear_as_text()
    {
        var document = XDocument.Parse(System.Text.Encoding.UTF8.GetString(BenchChart.Render([StepResultJsonTests.Step(1000)], "Messaging <fan-out> & more")));

        var texts = document.Descendants(Svg + "text").Select(t => t.Value).ToList();
        texts.Should().Contain("Messaging <fan-out> & more");
        texts.Should().Contain(t => t.Contains("2 cores", StringComparison.Ordinal) && t.Contains("2026-01-01", StringComparison.Ordinal));
    }
}

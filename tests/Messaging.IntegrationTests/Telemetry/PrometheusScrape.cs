using System.Globalization;

namespace Messaging.IntegrationTests.Telemetry;

/// <summary>One scrape of a service's <c>/metrics</c> (Prometheus text format), summed per metric name over its labels.</summary>
public sealed class PrometheusScrape
{
    private readonly List<(string Name, string Labels, double Value)> _samples = [];

    private PrometheusScrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var valueStart = line.LastIndexOf(' ');
            var brace = line.IndexOf('{', StringComparison.Ordinal);
            var nameEnd = brace >= 0 && brace < valueStart ? brace : line.IndexOf(' ', StringComparison.Ordinal);
            var labels = brace >= 0 && brace < valueStart ? line[brace..(line.LastIndexOf('}') + 1)] : "";
            // A sample line may end in a timestamp: "name{…} value timestamp".
            var fields = line[(nameEnd + labels.Length)..].Trim().Split(' ');
            if (double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                _samples.Add((line[..nameEnd], labels, value));
            }
        }
    }

    public string Text { get; }

    public static async Task<PrometheusScrape> FetchAsync(Uri service)
    {
        using var http = new HttpClient { BaseAddress = service };
        return new PrometheusScrape(await http.GetStringAsync("/metrics"));
    }

    /// <summary>The sum of every sample of <paramref name="name"/> whose labels contain <paramref name="labelPart"/>; 0 when there is none.</summary>
    public double Sum(string name, string labelPart = "")
    {
        double sum = 0;
        foreach (var (n, labels, value) in _samples)
        {
            if (n == name && labels.Contains(labelPart, StringComparison.Ordinal))
            {
                sum += value;
            }
        }

        return sum;
    }

    public bool Has(string name, string labelPart = "")
    {
        foreach (var (n, labels, _) in _samples)
        {
            if (n == name && labels.Contains(labelPart, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

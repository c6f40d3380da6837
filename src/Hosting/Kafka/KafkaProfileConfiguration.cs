using Microsoft.Extensions.Configuration;

namespace Messaging.Hosting.Kafka;

public static class KafkaProfileConfiguration
{
    /// <summary>
    /// Adds <c>kafka-profile.{Kafka:Profile}.json</c> beneath every other source, so appsettings
    /// and environment variables still override single settings of the profile.
    /// </summary>
    public static IConfigurationManager AddKafkaProfile(this IConfigurationManager configuration)
    {
        var profile = configuration["Kafka:Profile"] ?? "Modern";
        var path = ProfilePath(profile);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Kafka:Profile '{profile}' has no profile file at {path}.");
        }

        // Appended, but only with the keys no source sets yet: the same precedence as inserting the
        // profile beneath every source, without Sources.Insert, which rebuilds every provider and so
        // drops values set through the indexer (e.g. WebHost.UseUrls in test hosts, which then all
        // fell back to port 5000 and collided).
        var temp = new ConfigurationBuilder().AddJsonFile(path, optional: false).Build();
        configuration.Sources.Add(new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = temp.AsEnumerable().Where(kv => kv.Value is not null && configuration[kv.Key] is null).ToList(),
        });
        return configuration;
    }

    /// <summary>The settings of a profile as flat key/value pairs (for tests that build configuration in memory).</summary>
    public static IEnumerable<KeyValuePair<string, string?>> LoadProfile(string profile) =>
        new ConfigurationBuilder().AddJsonFile(ProfilePath(profile), optional: false).Build().AsEnumerable();

    private static string ProfilePath(string profile) =>
        Path.Combine(AppContext.BaseDirectory, $"kafka-profile.{profile}.json");
}

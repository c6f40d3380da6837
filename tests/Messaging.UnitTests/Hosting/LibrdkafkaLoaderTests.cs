using Messaging.Hosting.Kafka;

namespace Messaging.UnitTests.Hosting;

public sealed class LibrdkafkaLoaderTests
{
    private const string App = "/srv/edge";
    private static readonly string Flat = Path.Combine(App, "centos8-librdkafka.so");
    private static readonly string UnderRuntimes = Path.Combine(App, "runtimes", "linux-x64", "native", "centos8-librdkafka.so");

    [Fact]
    public void A_configured_absolute_path_is_loaded_as_given_even_when_the_centos8_build_is_present()
    {
        LibrdkafkaLoader.Choose("/usr/local/lib/librdkafka.so.1", App, linuxX64: true, _ => true)
            .Should().Be("/usr/local/lib/librdkafka.so.1");
    }

    [Fact]
    public void A_configured_relative_path_is_resolved_against_the_application_directory()
    {
        LibrdkafkaLoader.Choose("native/librdkafka.so", App, linuxX64: false, _ => false)
            .Should().Be(Path.Combine(App, "native", "librdkafka.so"));
    }

    [Fact]
    public void Without_a_configured_path_the_centos8_build_copied_flat_by_a_rid_specific_build_is_chosen()
    {
        LibrdkafkaLoader.Choose("", App, linuxX64: true, path => path == Flat || path == UnderRuntimes)
            .Should().Be(Flat);
    }

    [Fact]
    public void Without_a_configured_path_the_centos8_build_under_runtimes_is_chosen_in_a_portable_build()
    {
        LibrdkafkaLoader.Choose("", App, linuxX64: true, path => path == UnderRuntimes)
            .Should().Be(UnderRuntimes);
    }

    [Fact]
    public void Without_a_centos8_build_in_the_application_directory_confluent_kafka_searches_on_its_own()
    {
        LibrdkafkaLoader.Choose("", App, linuxX64: true, _ => false).Should().BeNull();
    }

    [Fact]
    public void Off_linux_x64_the_centos8_build_is_never_chosen_even_when_a_portable_build_carries_it()
    {
        LibrdkafkaLoader.Choose("", App, linuxX64: false, _ => true).Should().BeNull();
    }
}

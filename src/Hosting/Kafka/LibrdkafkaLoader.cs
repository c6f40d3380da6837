using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Messaging.Hosting.Kafka;

/// <summary>
/// Chooses the native librdkafka once per process, by path, before the first Kafka client exists.
/// </summary>
/// <remarks>
/// The official <c>librdkafka.redist</c> package ships two glibc builds for linux-x64. Its default
/// <c>librdkafka.so</c> needs <c>libsasl2.so.3</c> (the RHEL name; Debian 12 has only
/// <c>libsasl2.so.2</c>), so <c>ldd</c> reports it "not found" and it cannot load here;
/// <c>centos8-librdkafka.so</c> has SASL built in and needs nothing but glibc. Left to itself,
/// Confluent.Kafka tries the default build, then any <c>librdkafka.so</c> on the system library
/// path, and only then the centos8 build (the order seen with <c>LD_DEBUG=files</c>): on a machine
/// with Debian's <c>librdkafka-dev</c> that search would find Debian's librdkafka 2.0.2, whose consumers fail with
/// EntryPointNotFoundException (<c>rd_kafka_topic_partition_get_leader_epoch</c>). So the chosen file
/// is loaded here and handed to Confluent.Kafka's <c>DllImport("librdkafka")</c> through a resolver.
/// Not through <c>Confluent.Kafka.Library.Load(path)</c>: it calls <c>dlopen</c> from <c>libdl</c>,
/// which Debian 12 has only as <c>libdl.so.2</c> (glibc 2.34 moved it into libc), and fails with
/// DllNotFoundException "Unable to load shared library 'libdl'".
/// </remarks>
public static class LibrdkafkaLoader
{
    /// <summary>Where the centos8 build lands: flat in RID-specific builds (ours), under runtimes/ in portable ones.</summary>
    public static readonly IReadOnlyList<string> Candidates =
        ["centos8-librdkafka.so", Path.Combine("runtimes", "linux-x64", "native", "centos8-librdkafka.so")];

    /// <summary>The library name of Confluent.Kafka's first-choice bindings.</summary>
    private const string DllImportName = "librdkafka";

    private static readonly Lock Gate = new();
    private static bool _decided;

    /// <summary>
    /// The file to load: <paramref name="configuredPath"/> when set (relative to
    /// <paramref name="baseDirectory"/>), else the first candidate present on linux-x64, else
    /// null (Confluent.Kafka's own search, e.g. on another OS or architecture).
    /// </summary>
    public static string? Choose(string configuredPath, string baseDirectory, bool linuxX64, Func<string, bool> exists)
    {
        if (configuredPath.Length > 0)
        {
            return Path.GetFullPath(configuredPath, baseDirectory);
        }

        if (!linuxX64)
        {
            return null;
        }

        return Candidates.Select(candidate => Path.Combine(baseDirectory, candidate)).FirstOrDefault(exists);
    }

    /// <summary>
    /// Loads the chosen file and makes Confluent.Kafka bind to it, unless the process already loaded
    /// librdkafka; a configured path that cannot be loaded throws (DllNotFoundException with the reason).
    /// </summary>
    public static void EnsureLoaded(string configuredPath)
    {
        lock (Gate)
        {
            if (_decided || Library.IsLoaded)
            {
                return;
            }

            var linuxX64 = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;
            var path = Choose(configuredPath, AppContext.BaseDirectory, linuxX64, File.Exists);
            if (path is not null)
            {
                var handle = NativeLibrary.Load(path);
                NativeLibrary.SetDllImportResolver(typeof(Library).Assembly,
                    (name, _, _) => name == DllImportName ? handle : IntPtr.Zero);
            }

            _decided = true;
        }
    }
}

namespace Synack.Interop.Tests;

/// <summary>Our stack as the client: `synack get` fetches 100 MB from nginx running on the kernel's TCP.</summary>
public class NginxTests
{
    [SkippableFact]
    public void Synack_get_downloads_100_MB_from_nginx()
    {
        using var ns = NetworkNamespace.Create();
        if (!File.Exists("/usr/sbin/nginx"))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") throw new InvalidOperationException("nginx-light is not installed");
            Skip.If(true, "nginx is not installed (apt-get install nginx-light)");
        }
        var dir = Path.Combine(Path.GetTempPath(), $"synack-nginx-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "www"));
        try
        {
            var data = new byte[100L * 1024 * 1024];
            new Random(9).NextBytes(data);
            File.WriteAllBytes(Path.Combine(dir, "www", "blob"), data);
            var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
            File.WriteAllText(Path.Combine(dir, "nginx.conf"), NetworkNamespace.NginxConfig(dir, "8080"));
            using var nginx = ns.Background("/usr/sbin/nginx", "-p", dir, "-c", Path.Combine(dir, "nginx.conf"));
            // nginx listens on every address of the namespace; the TUN's kernel side 192.0.2.1 is one of them.
            var printed = "";
            for (int attempt = 0; attempt < 3; attempt++)
            {
                try
                {
                    printed = ns.Synack("get", $"http://{NetworkNamespace.KernelAddress}:8080/blob", "--tun", $"get{attempt}", "--address", NetworkNamespace.StackAddress, "--peer", NetworkNamespace.KernelAddress + "/24");
                    break;
                }
                catch (InvalidOperationException) when (attempt < 2)
                {
                    Thread.Sleep(500); // nginx may not be listening yet: bounded retries
                }
            }
            Assert.Contains("status 200", printed);
            Assert.Contains($"{data.Length} bytes", printed);
            Assert.Contains($"sha256 {expected}", printed);
            nginx.Kill(entireProcessTree: true);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

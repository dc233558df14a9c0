using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Synack.AspNetCore.Tests;

/// <summary>A self-signed certificate for 192.0.2.2, made here: nothing is fetched, nothing trusted beyond these tests.</summary>
internal static class TestCertificate
{
    private static readonly Lazy<X509Certificate2> Certificate = new(() =>
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=192.0.2.2", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Parse("192.0.2.2"));
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    });

    public static X509Certificate2 ForServer => Certificate.Value;

    /// <summary>Trusts exactly this certificate, as a client pinned to it would.</summary>
    public static bool IsOurs(X509Certificate? presented) => presented?.GetCertHashString() == ForServer.GetCertHashString();
}

using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Synack.Docs.Tests;

/// <summary>
/// Compiles a snippet as a user's project would: top-level statements (or a class library for a block
/// of types), nullable on, every warning an error, the SDK's implicit usings and nothing else — so a
/// snippet that forgets a <c>using</c> line fails here as it would for its reader.
/// </summary>
internal static class SnippetCompiler
{
    // What Microsoft.NET.Sdk puts in scope with ImplicitUsings, and what Microsoft.NET.Sdk.Web adds.
    private static readonly string[] ConsoleUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];
    private static readonly string[] WebUsings =
        ["System.Net.Http.Json", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Http",
         "Microsoft.AspNetCore.Routing", "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection",
         "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging"];

    // The test host's own assemblies: the runtime, ASP.NET Core's shared framework, xunit and the Synack libraries.
    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !Path.GetFileName(p).StartsWith("Synack.Docs.Tests", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray());

    private static int s_count;

    /// <summary>The snippet's assembly, or an assertion that lists every diagnostic with the snippet's own line numbers.</summary>
    public static Assembly Compile(Snippet snippet)
    {
        var usings = snippet.IsWeb ? ConsoleUsings.Concat(WebUsings) : ConsoleUsings;
        var globals = string.Join('\n', usings.Select(u => $"global using global::{u};"));
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText(snippet.Code, parse, path: snippet.File),
            CSharpSyntaxTree.ParseText(globals, parse, path: "GlobalUsings.g.cs"),
        };
        var options = new CSharpCompilationOptions(snippet.IsProgram ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithOptimizationLevel(OptimizationLevel.Debug)
            .WithGeneralDiagnosticOption(ReportDiagnostic.Error); // warnings as errors, as this repository builds
        var compilation = CSharpCompilation.Create($"Snippet{Interlocked.Increment(ref s_count)}", trees, References.Value, options);
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        var problems = result.Diagnostics
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d =>
            {
                var at = d.Location.GetLineSpan();
                var line = at.Path == snippet.File ? $"{snippet.File}:{snippet.Line + at.StartLinePosition.Line}" : at.Path;
                return $"{line}: {d.Id} {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
            })
            .ToList();
        Assert.True(result.Success && problems.Count == 0, $"the snippet at {snippet} does not compile:\n{string.Join('\n', problems)}");
        return Assembly.Load(image.ToArray());
    }
}

using SharpFuzz;
using Synack.Fuzz;

// Under afl-fuzz (scripts/fuzz.sh): `synack-fuzz TARGET` reads each input afl hands over.
// By hand: `synack-fuzz TARGET FILE...` runs files through the target once each.
if (args.Length == 0 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: synack-fuzz TARGET [FILE...]   targets: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}
string target = args[0];
if (args.Length > 1)
{
    foreach (var file in args.Skip(1)) FuzzTargets.Run(target, File.ReadAllBytes(file));
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    FuzzTargets.Run(target, memory.ToArray());
});
return 0;

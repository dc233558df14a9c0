using SharpFuzz;
using Synack.Fuzz;

// Under afl-fuzz (scripts/fuzz.sh): `synack-fuzz TARGET` reads each input afl hands over.
// By hand: `synack-fuzz TARGET FILE...` runs files through the target once each;
// `synack-fuzz damage DIR COUNT [SEED]` runs captures and damaged copies of them (CaptureDamage).
if (args.Length >= 3 && args[0] == "damage" && int.TryParse(args[2], out int copies))
{
    return CaptureDamage.Run(args[1], copies, args.Length > 3 && int.TryParse(args[3], out int s) ? s : 1);
}
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

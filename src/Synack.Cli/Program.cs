using System.CommandLine;
using Synack.Cli;

var root = new RootCommand("synack: a userspace TCP stack that shows its connection management");
root.Subcommands.Add(DemoCommand.Create());
return root.Parse(args).Invoke();

using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using TensorProtocol.Quic.Interop;

namespace TensorProtocol.Quic.Tests;

/// <summary>
/// Proves the managed mirrors in <c>src/TensorProtocol.Quic/Interop</c> match the installed C headers: a small C program
/// is generated from the mirrors found by reflection, compiled with gcc, run, and its sizeof/offsetof/value output is
/// compared with the managed side. A struct, field, constant or enum member added to a mirror is checked automatically.
/// Needs gcc and the ngtcp2/GnuTLS/libc development headers (scripts/bootstrap installs them); without them the tests
/// fail, they never skip.
/// </summary>
public sealed class StructLayoutTests
{
    private const string BootstrapHint =
        "Run scripts/bootstrap to install gcc, libc6-dev, libngtcp2-dev (1.x) and libgnutls28-dev.";

    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The classes whose nested structs, enums and constants mirror C, with how a nested type's name maps to its C type
    /// name and which of the class's constants have a C macro/enumerator of the same name.
    /// </summary>
    private static readonly MirrorClass[] MirrorClasses =
    [
        new(typeof(ngtcp2), name => name, name => name.StartsWith("NGTCP2_", StringComparison.Ordinal)),
        new(typeof(ngtcp2_crypto), name => name, name => name.StartsWith("NGTCP2_", StringComparison.Ordinal)),
        new(typeof(ngtcp2_crypto_gnutls), name => name, name => name.StartsWith("NGTCP2_", StringComparison.Ordinal)),
        new(typeof(gnutls), name => name, name => name.StartsWith("GNUTLS_", StringComparison.Ordinal)),
        // The libc mirrors are the tagged `struct xxx` types of <sys/socket.h>, <netinet/in.h>, <linux/errqueue.h>, ...
        new(typeof(libc), name => "struct " + name, _ => true),
    ];

    /// <summary>
    /// Reflected constants that deliberately have no C macro or enumerator of the same name, so they are not printed
    /// from C. Each entry needs a reason.
    /// </summary>
    private static readonly Dictionary<(Type Class, string Name), string> ConstantExclusions = new()
    {
    };

    /// <summary>
    /// Fields whose managed type is a stand-in for a C type that is not mirrored: only the offset is compared (the
    /// struct's total size still catches a size difference).
    /// </summary>
    private static readonly Dictionary<(Type Struct, string Field), string> OffsetOnlyFields = new()
    {
        [(typeof(ngtcp2.ngtcp2_path_storage), "local_addrbuf")] = "C type is the union ngtcp2_sockaddr_union; mirrored by sockaddr_in6, its largest member",
        [(typeof(ngtcp2.ngtcp2_path_storage), "remote_addrbuf")] = "C type is the union ngtcp2_sockaddr_union; mirrored by sockaddr_in6, its largest member",
    };

    /// <summary>Structs and constants the brief names explicitly: guards against a rename silently dropping coverage.</summary>
    private static readonly Type[] RequiredStructs =
    [
        typeof(ngtcp2.ngtcp2_cid), typeof(ngtcp2.ngtcp2_vec), typeof(ngtcp2.ngtcp2_pkt_info), typeof(ngtcp2.ngtcp2_pkt_hd),
        typeof(ngtcp2.ngtcp2_version_cid), typeof(ngtcp2.ngtcp2_preferred_addr), typeof(ngtcp2.ngtcp2_version_info),
        typeof(ngtcp2.ngtcp2_transport_params), typeof(ngtcp2.ngtcp2_conn_info), typeof(ngtcp2.ngtcp2_rand_ctx),
        typeof(ngtcp2.ngtcp2_settings), typeof(ngtcp2.ngtcp2_addr), typeof(ngtcp2.ngtcp2_path), typeof(ngtcp2.ngtcp2_path_storage),
        typeof(ngtcp2.ngtcp2_ccerr), typeof(ngtcp2.ngtcp2_info), typeof(ngtcp2.ngtcp2_callbacks),
        typeof(ngtcp2_crypto.ngtcp2_crypto_conn_ref), typeof(gnutls.gnutls_datum_t),
        typeof(libc.sockaddr_in), typeof(libc.sockaddr_in6), typeof(libc.iovec), typeof(libc.msghdr), typeof(libc.mmsghdr),
        typeof(libc.cmsghdr), typeof(libc.pollfd), typeof(libc.timespec), typeof(libc.itimerspec), typeof(libc.sock_extended_err),
    ];

    private static readonly string[] RequiredConstants =
    [
        "NGTCP2_PKT_INFO_V1", "NGTCP2_TRANSPORT_PARAMS_V1", "NGTCP2_CONN_INFO_V1", "NGTCP2_SETTINGS_V1", "NGTCP2_SETTINGS_V2", "NGTCP2_CALLBACKS_V1",
        "SOL_UDP", "UDP_SEGMENT", "UDP_GRO", "IP_RECVERR", "IPV6_RECVERR", "MSG_ERRQUEUE", "POLLIN", "POLLERR", "POLLOUT",
        "EAGAIN", "ECONNREFUSED", "EFD_NONBLOCK", "TFD_NONBLOCK", "TFD_TIMER_ABSTIME", "CLOCK_MONOTONIC", "SO_EE_ORIGIN_ICMP",
        "SO_EE_ORIGIN_ICMP6", "AF_INET", "AF_INET6",
    ];

    [Fact]
    public void StructMirrors_MatchCHeaderLayout()
    {
        List<StructMirror> structs = ReflectStructs();
        var missing = RequiredStructs.Where(t => !structs.Any(s => s.Type == t)).Select(t => t.FullName).ToList();
        Assert.True(missing.Count == 0, "Mirrors not found by reflection: " + string.Join(", ", missing));

        COutput c = CompileAndRun(GenerateCProgram(structs, [], []));
        var mismatches = new List<string>();
        foreach (StructMirror s in structs)
        {
            string cSize = c.Get('S', s.CName);
            int unsafeSize = ManagedSize(s.Type);
            int marshalSize = Marshal.SizeOf(s.Type);
            if (unsafeSize != marshalSize)
            {
                mismatches.Add($"{s.CName}: managed Unsafe.SizeOf={unsafeSize} but Marshal.SizeOf={marshalSize} (struct is not blittable)");
            }
            if (long.Parse(cSize, CultureInfo.InvariantCulture) != unsafeSize)
            {
                mismatches.Add($"{s.CName}: sizeof C={cSize} managed={unsafeSize}");
            }
            foreach (FieldInfo f in s.Fields)
            {
                string[] cf = c.Get('F', s.CName + "." + f.Name).Split('|');
                long cOffset = long.Parse(cf[0], CultureInfo.InvariantCulture);
                long cFieldSize = long.Parse(cf[1], CultureInfo.InvariantCulture);
                long managedOffset = Marshal.OffsetOf(s.Type, f.Name).ToInt64();
                if (cOffset != managedOffset)
                {
                    mismatches.Add($"{s.CName}.{f.Name}: offsetof C={cOffset} managed={managedOffset}");
                }
                if (OffsetOnlyFields.ContainsKey((s.Type, f.Name)))
                {
                    continue;
                }
                int managedFieldSize = ManagedSize(f.FieldType);
                if (cFieldSize != managedFieldSize)
                {
                    mismatches.Add($"{s.CName}.{f.Name}: field sizeof C={cFieldSize} managed={managedFieldSize} ({DescribeFieldType(f)})");
                }
            }
        }
        Assert.True(mismatches.Count == 0,
            $"{mismatches.Count} struct layout mismatch(es) against ngtcp2 {c.Ngtcp2Version} headers:\n  " + string.Join("\n  ", mismatches));
    }

    [Fact]
    public void ConstantMirrors_MatchCHeaderValues()
    {
        List<ConstMirror> constants = ReflectConstants();
        var missing = RequiredConstants.Where(n => !constants.Any(k => k.Name == n)).ToList();
        Assert.True(missing.Count == 0, "Constants not found by reflection: " + string.Join(", ", missing));
        var unsupported = constants.Where(k => !IsIntegral(k.Value)).Select(k => $"{k.Class.Name}.{k.Name} ({k.Value.GetType().Name})").ToList();
        Assert.True(unsupported.Count == 0,
            "Non-integral mirrored constants cannot be compared; add them to ConstantExclusions with a reason: " + string.Join(", ", unsupported));

        COutput c = CompileAndRun(GenerateCProgram([], constants, []));
        var mismatches = new List<string>();
        foreach (ConstMirror k in constants)
        {
            long cValue = long.Parse(c.Get('C', k.Name), CultureInfo.InvariantCulture);
            long managed = ToInt64(k.Value);
            if (cValue != managed)
            {
                mismatches.Add($"{k.Class.Name}.{k.Name}: C={cValue} (0x{cValue:x}) managed={managed} (0x{managed:x})");
            }
        }
        Assert.True(mismatches.Count == 0,
            $"{mismatches.Count} constant mismatch(es) against ngtcp2 {c.Ngtcp2Version} headers:\n  " + string.Join("\n  ", mismatches));
    }

    [Fact]
    public void EnumMirrors_MatchCHeaderValues()
    {
        List<EnumMirror> enums = ReflectEnums();
        Assert.Contains(enums, e => e.Type == typeof(ngtcp2.ngtcp2_cc_algo));
        Assert.Contains(enums, e => e.Type == typeof(ngtcp2.ngtcp2_ccerr_type));

        COutput c = CompileAndRun(GenerateCProgram([], [], enums));
        var mismatches = new List<string>();
        foreach (EnumMirror e in enums)
        {
            long cSize = long.Parse(c.Get('S', e.CName), CultureInfo.InvariantCulture);
            int managedSize = ManagedSize(e.Type);
            if (cSize != managedSize)
            {
                mismatches.Add($"{e.CName}: sizeof C={cSize} managed={managedSize}");
            }
            foreach (string member in e.Members)
            {
                long cValue = long.Parse(c.Get('E', member), CultureInfo.InvariantCulture);
                long managed = ToInt64(Convert.ChangeType(Enum.Parse(e.Type, member), Enum.GetUnderlyingType(e.Type), CultureInfo.InvariantCulture));
                if (cValue != managed)
                {
                    mismatches.Add($"{e.CName}.{member}: C={cValue} managed={managed}");
                }
            }
        }
        Assert.True(mismatches.Count == 0,
            $"{mismatches.Count} enum mismatch(es) against ngtcp2 {c.Ngtcp2Version} headers:\n  " + string.Join("\n  ", mismatches));
    }

    /// <summary>
    /// Generates the C probe. Its output is one record per line, '|'-separated, keyed by a record letter and a name:
    /// <list type="bullet">
    /// <item><c>V|ngtcp2|&lt;NGTCP2_VERSION&gt;</c> - the header version, quoted in failure messages;</item>
    /// <item><c>S|&lt;C type&gt;|sizeof</c> - a struct's or enum's size;</item>
    /// <item><c>F|&lt;C type&gt;.&lt;field&gt;|offsetof|sizeof(field)</c> - one per managed field (a fixed buffer
    /// <c>fixed byte data[20]</c> reflects as a field named <c>data</c>, so C's <c>sizeof(x.data)</c> is the whole array);</item>
    /// <item><c>C|&lt;name&gt;|value</c> - a constant, printed as <c>(long long)(NAME)</c> so macros with casts,
    /// enumerators and <c>#define X X</c> enum-backed macros all work;</item>
    /// <item><c>E|&lt;member&gt;|value</c> - an enum member.</item>
    /// </list>
    /// No symbol is referenced, only types and compile-time values, so nothing is linked but libc.
    /// </summary>
    private static string GenerateCProgram(IReadOnlyList<StructMirror> structs, IReadOnlyList<ConstMirror> constants, IReadOnlyList<EnumMirror> enums)
    {
        var src = new StringBuilder();
        // struct mmsghdr and some socket options are GNU extensions.
        src.AppendLine("#define _GNU_SOURCE 1");
        src.AppendLine("#include <stddef.h>");
        src.AppendLine("#include <stdio.h>");
        src.AppendLine("#include <errno.h>");
        src.AppendLine("#include <poll.h>");
        src.AppendLine("#include <time.h>");
        src.AppendLine("#include <sys/socket.h>");    // msghdr, mmsghdr, cmsghdr, AF_*, SOL_SOCKET, SO_*, MSG_*
        src.AppendLine("#include <sys/uio.h>");       // iovec
        src.AppendLine("#include <sys/eventfd.h>");   // EFD_*
        src.AppendLine("#include <sys/prctl.h>");     // PR_SET_TIMERSLACK
        src.AppendLine("#include <sys/timerfd.h>");   // TFD_*, struct itimerspec
        src.AppendLine("#include <netinet/in.h>");    // sockaddr_in(6), IPPROTO_*, IP(V6)_RECVERR, IP(V6)_MTU_DISCOVER
        src.AppendLine("#include <netinet/udp.h>");   // SOL_UDP, UDP_SEGMENT, UDP_GRO
        src.AppendLine("#include <linux/errqueue.h>"); // sock_extended_err, SO_EE_ORIGIN_*
        src.AppendLine("#include <gnutls/gnutls.h>");
        src.AppendLine("#include <gnutls/x509.h>");   // GNUTLS_PKCS_*
        src.AppendLine("#include <ngtcp2/ngtcp2.h>");
        src.AppendLine("#include <ngtcp2/ngtcp2_crypto.h>");
        src.AppendLine("#include <ngtcp2/ngtcp2_crypto_gnutls.h>");
        src.AppendLine();
        src.AppendLine("int main(void) {");
        src.AppendLine("  printf(\"V|ngtcp2|%s\\n\", NGTCP2_VERSION);");

        // Structs: total size, then offset and size of every field the managed mirror declares.
        foreach (StructMirror s in structs)
        {
            src.AppendLine(CultureInfo.InvariantCulture, $"  /* {s.Type.FullName} */");
            src.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"S|{s.CName}|%zu\\n\", sizeof({s.CName}));");
            foreach (FieldInfo f in s.Fields)
            {
                src.AppendLine(CultureInfo.InvariantCulture,
                    $"  printf(\"F|{s.CName}.{f.Name}|%zu|%zu\\n\", offsetof({s.CName}, {f.Name}), sizeof((({s.CName} *)0)->{f.Name}));");
            }
        }

        // Constants: same-named macro or enumerator, widened to long long.
        foreach (ConstMirror k in constants)
        {
            src.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"C|{k.Name}|%lld\\n\", (long long)({k.Name}));");
        }

        // Enums: the enum type's size and each member's value.
        foreach (EnumMirror e in enums)
        {
            src.AppendLine(CultureInfo.InvariantCulture, $"  /* {e.Type.FullName} */");
            src.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"S|{e.CName}|%zu\\n\", sizeof({e.CName}));");
            foreach (string member in e.Members)
            {
                src.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"E|{member}|%lld\\n\", (long long)({member}));");
            }
        }

        src.AppendLine("  return 0;");
        src.AppendLine("}");
        return src.ToString();
    }

    private static List<StructMirror> ReflectStructs()
    {
        var result = new List<StructMirror>();
        foreach (MirrorClass mc in MirrorClasses)
        {
            foreach (Type t in NestedTypes(mc.Type).Where(t => t.IsValueType && !t.IsEnum))
            {
                FieldInfo[] fields = t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
                result.Add(new StructMirror(t, mc.CName(t.Name), fields));
            }
        }
        return result;
    }

    private static List<EnumMirror> ReflectEnums() =>
        MirrorClasses.SelectMany(mc => NestedTypes(mc.Type).Where(t => t.IsEnum).Select(t => new EnumMirror(t, mc.CName(t.Name), Enum.GetNames(t))))
            .ToList();

    private static List<ConstMirror> ReflectConstants() =>
        MirrorClasses.SelectMany(mc => mc.Type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(f => f.IsLiteral && !f.IsInitOnly && mc.HasCCounterpart(f.Name) && !ConstantExclusions.ContainsKey((mc.Type, f.Name)))
                .Select(f => new ConstMirror(mc.Type, f.Name, f.GetRawConstantValue()!)))
            .ToList();

    private static IEnumerable<Type> NestedTypes(Type mirrorClass) =>
        mirrorClass.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic)
            .Where(t => !t.IsDefined(typeof(CompilerGeneratedAttribute), false));

    /// <summary>Native size of a field or struct type: pointers and nint/nuint are a machine word; fixed buffers,
    /// enums and structs are what <see cref="Unsafe.SizeOf{T}"/> says.</summary>
    private static int ManagedSize(Type t)
    {
        if (t.IsPointer || t.IsFunctionPointer || t.IsUnmanagedFunctionPointer || t == typeof(nint) || t == typeof(nuint))
        {
            return IntPtr.Size;
        }
        return (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(t).Invoke(null, null)!;
    }

    private static string DescribeFieldType(FieldInfo f)
    {
        FixedBufferAttribute? fixedBuffer = f.GetCustomAttribute<FixedBufferAttribute>();
        return fixedBuffer is null
            ? f.FieldType.Name
            : $"fixed {fixedBuffer.ElementType.Name}[{fixedBuffer.Length}]";
    }

    private static bool IsIntegral(object v) => v is sbyte or byte or short or ushort or int or uint or long or ulong;

    private static long ToInt64(object v) => v is ulong u ? unchecked((long)u) : Convert.ToInt64(v, CultureInfo.InvariantCulture);

    /// <summary>Writes the source to a temp dir, compiles it with gcc from PATH, runs it, and parses its records.</summary>
    private static COutput CompileAndRun(string source)
    {
        DirectoryInfo dir = Directory.CreateTempSubdirectory("tp-structlayout-");
        try
        {
            string cFile = Path.Combine(dir.FullName, "layout.c");
            string exe = Path.Combine(dir.FullName, "layout");
            File.WriteAllText(cFile, source);

            ProcessResult gcc;
            try
            {
                gcc = Run("gcc", ["-std=gnu11", "-O0", "-o", exe, cFile]);
            }
            catch (Win32Exception ex)
            {
                Assert.Fail($"Could not start gcc ({ex.Message}). {BootstrapHint}");
                throw;
            }
            if (gcc.ExitCode != 0)
            {
                bool missingHeader = gcc.Stderr.Contains("No such file or directory", StringComparison.Ordinal);
                Assert.Fail((missingHeader ? $"A C header is missing. {BootstrapHint}\n" : $"The generated layout probe does not compile against the installed headers (a mirrored name with no C counterpart? or {BootstrapHint})\n")
                    + $"gcc exited {gcc.ExitCode}:\n{gcc.Stderr}\n--- generated source ---\n{source}");
            }

            ProcessResult probe = Run(exe, []);
            Assert.True(probe.ExitCode == 0, $"The layout probe exited {probe.ExitCode}:\n{probe.Stderr}");
            return COutput.Parse(probe.Stdout);
        }
        finally
        {
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp dir is not a test failure.
            }
        }
    }

    private static ProcessResult Run(string fileName, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"Process.Start({fileName}) returned null");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(ProcessTimeout))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} did not exit within {ProcessTimeout.TotalSeconds}s");
        }
        p.WaitForExit(); // flushes the redirected streams
        return new ProcessResult(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    private sealed record MirrorClass(Type Type, Func<string, string> CName, Func<string, bool> HasCCounterpart);

    private sealed record StructMirror(Type Type, string CName, FieldInfo[] Fields);

    private sealed record EnumMirror(Type Type, string CName, string[] Members);

    private sealed record ConstMirror(Type Class, string Name, object Value);

    private sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);

    private sealed class COutput
    {
        private readonly Dictionary<(char Kind, string Name), string> _records = [];

        public string Ngtcp2Version => _records.GetValueOrDefault(('V', "ngtcp2"), "?");

        public static COutput Parse(string stdout)
        {
            var output = new COutput();
            foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] parts = line.Split('|', 3);
                Assert.True(parts.Length == 3 && parts[0].Length == 1, $"Unparseable probe output line: '{line}'");
                output._records[(parts[0][0], parts[1])] = parts[2];
            }
            return output;
        }

        public string Get(char kind, string name)
        {
            Assert.True(_records.TryGetValue((kind, name), out string? value), $"The C probe printed no '{kind}' record for {name}");
            return value!;
        }
    }
}

/**
 * The Windows side of the Windows adapter: a small C# class compiled by PowerShell's Add-Type
 * and a read-eval loop on stdin. It runs every call with the thread set per-monitor DPI aware
 * (V2), so all coordinates are physical pixels of the virtual screen, the space in which
 * monitors at different scales (150% beside 100%) never overlap. Node's own process is DPI
 * unaware and would see coordinates Windows scales per monitor, which is why pointer moves,
 * scrolling, Unicode text, capture and the window checks happen here rather than in libnut.
 *
 * Requests are one line each, tab-separated: `<id>\t<op>\t<arg>…` (text as base64 UTF-8).
 * Replies are one line of ASCII JSON: `{"id":n,"ok":true,"result":…}` or
 * `{"id":n,"ok":false,"code":"…","error":"…"}`.
 *
 * The C# stays within C# 5 (what Windows PowerShell 5.1's Add-Type compiles); a unit test
 * compiles it with Mono's mcs -langversion:5 where mcs is installed.
 */
export const WINDOWS_HELPER_CSHARP = String.raw`
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Drawing;
using System.Drawing.Imaging;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

public static class KestrelDesktop
{
    [StructLayout(LayoutKind.Sequential)]
    public struct RECT { public int Left; public int Top; public int Right; public int Bottom; }

    [StructLayout(LayoutKind.Sequential)]
    public struct POINT { public int X; public int Y; }

    [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
    public struct MONITORINFOEX
    {
        public int cbSize;
        public RECT rcMonitor;
        public RECT rcWork;
        public uint dwFlags;
        [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 32)]
        public string szDevice;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct MOUSEINPUT { public int dx; public int dy; public int mouseData; public uint dwFlags; public uint time; public IntPtr dwExtraInfo; }

    [StructLayout(LayoutKind.Sequential)]
    struct KEYBDINPUT { public ushort wVk; public ushort wScan; public uint dwFlags; public uint time; public IntPtr dwExtraInfo; }

    [StructLayout(LayoutKind.Explicit)]
    struct INPUTUNION { [FieldOffset(0)] public MOUSEINPUT mi; [FieldOffset(0)] public KEYBDINPUT ki; }

    [StructLayout(LayoutKind.Sequential)]
    struct INPUT { public uint type; public INPUTUNION u; }

    delegate bool MonitorEnumProc(IntPtr monitor, IntPtr hdc, ref RECT rect, IntPtr data);

    [DllImport("user32.dll")] static extern bool EnumDisplayMonitors(IntPtr hdc, IntPtr clip, MonitorEnumProc proc, IntPtr data);
    [DllImport("user32.dll", CharSet = CharSet.Unicode)] static extern bool GetMonitorInfo(IntPtr monitor, ref MONITORINFOEX info);
    [DllImport("shcore.dll")] static extern int GetDpiForMonitor(IntPtr monitor, int type, out uint dpiX, out uint dpiY);
    [DllImport("user32.dll")] static extern IntPtr SetThreadDpiAwarenessContext(IntPtr context);
    [DllImport("user32.dll")] static extern bool SetCursorPos(int x, int y);
    [DllImport("user32.dll")] static extern bool GetCursorPos(out POINT point);
    [DllImport("user32.dll", SetLastError = true)] static extern uint SendInput(uint count, INPUT[] inputs, int size);
    [DllImport("user32.dll")] static extern int GetSystemMetrics(int index);
    [DllImport("user32.dll")] static extern IntPtr WindowFromPoint(POINT point);
    [DllImport("user32.dll")] static extern IntPtr GetAncestor(IntPtr window, uint flags);
    [DllImport("user32.dll")] static extern IntPtr GetForegroundWindow();
    [DllImport("user32.dll")] static extern uint GetWindowThreadProcessId(IntPtr window, out uint pid);
    [DllImport("user32.dll", CharSet = CharSet.Unicode)] static extern int GetWindowText(IntPtr window, StringBuilder text, int max);
    [DllImport("user32.dll", SetLastError = true)] static extern IntPtr OpenInputDesktop(uint flags, bool inherit, uint access);
    [DllImport("user32.dll")] static extern bool CloseDesktop(IntPtr desktop);
    [DllImport("kernel32.dll")] static extern IntPtr OpenProcess(uint access, bool inherit, uint pid);
    [DllImport("kernel32.dll")] static extern IntPtr GetCurrentProcess();
    [DllImport("kernel32.dll")] static extern bool CloseHandle(IntPtr handle);
    [DllImport("advapi32.dll", SetLastError = true)] static extern bool OpenProcessToken(IntPtr process, uint access, out IntPtr token);
    [DllImport("advapi32.dll", SetLastError = true)] static extern bool GetTokenInformation(IntPtr token, int infoClass, out int info, int length, out int returned);

    static readonly IntPtr PER_MONITOR_AWARE_V2 = new IntPtr(-4);
    const uint INPUT_MOUSE = 0, INPUT_KEYBOARD = 1;
    const uint MOUSEEVENTF_MOVE = 0x0001, MOUSEEVENTF_WHEEL = 0x0800, MOUSEEVENTF_HWHEEL = 0x1000;
    const uint MOUSEEVENTF_VIRTUALDESK = 0x4000, MOUSEEVENTF_ABSOLUTE = 0x8000;
    const uint KEYEVENTF_KEYUP = 0x0002, KEYEVENTF_UNICODE = 0x0004;
    const int SM_XVIRTUALSCREEN = 76, SM_YVIRTUALSCREEN = 77, SM_CXVIRTUALSCREEN = 78, SM_CYVIRTUALSCREEN = 79;
    const int WHEEL_DELTA = 120;
    const uint MONITORINFOF_PRIMARY = 1, GA_ROOT = 2;
    const uint PROCESS_QUERY_LIMITED_INFORMATION = 0x1000, TOKEN_QUERY = 0x0008, DESKTOP_READOBJECTS = 0x0001;
    const int TokenElevation = 20;

    public class Failure : Exception
    {
        public readonly string Code;
        public Failure(string code, string message) : base(message) { Code = code; }
    }

    /** Every call runs per-monitor DPI aware, then puts the thread back as it was. */
    sealed class PerMonitorDpi : IDisposable
    {
        readonly IntPtr previous;
        public PerMonitorDpi()
        {
            try { previous = SetThreadDpiAwarenessContext(PER_MONITOR_AWARE_V2); }
            catch (EntryPointNotFoundException) { throw new Failure("windows-too-old", "per-monitor DPI awareness needs Windows 10 version 1607 or later"); }
            if (previous == IntPtr.Zero) throw new Failure("dpi-awareness", "Windows refused per-monitor DPI awareness for this thread");
        }
        public void Dispose() { SetThreadDpiAwarenessContext(previous); }
    }

    static string Str(string s)
    {
        var b = new StringBuilder("\"");
        foreach (char c in s ?? "")
        {
            if (c == '"' || c == '\\') b.Append('\\').Append(c);
            else if (c < 0x20 || c > 0x7e) b.Append("\\u").Append(((int)c).ToString("x4"));
            else b.Append(c);
        }
        return b.Append('"').ToString();
    }

    static string Bool(bool v) { return v ? "true" : "false"; }
    static string Num(int v) { return v.ToString(CultureInfo.InvariantCulture); }

    public static string Displays()
    {
        using (new PerMonitorDpi())
        {
            var items = new List<string>();
            MonitorEnumProc each = delegate(IntPtr monitor, IntPtr hdc, ref RECT rect, IntPtr data)
            {
                var info = new MONITORINFOEX();
                info.cbSize = Marshal.SizeOf(typeof(MONITORINFOEX));
                if (!GetMonitorInfo(monitor, ref info)) return true;
                uint dpiX, dpiY;
                if (GetDpiForMonitor(monitor, 0, out dpiX, out dpiY) != 0) { dpiX = 96; dpiY = 96; }
                RECT m = info.rcMonitor, w = info.rcWork;
                items.Add("{\"szDevice\":" + Str(info.szDevice)
                    + ",\"rcMonitor\":[" + Num(m.Left) + "," + Num(m.Top) + "," + Num(m.Right) + "," + Num(m.Bottom) + "]"
                    + ",\"rcWork\":[" + Num(w.Left) + "," + Num(w.Top) + "," + Num(w.Right) + "," + Num(w.Bottom) + "]"
                    + ",\"primary\":" + Bool((info.dwFlags & MONITORINFOF_PRIMARY) != 0)
                    + ",\"dpiX\":" + Num((int)dpiX) + ",\"dpiY\":" + Num((int)dpiY) + "}");
                return true;
            };
            EnumDisplayMonitors(IntPtr.Zero, IntPtr.Zero, each, IntPtr.Zero);
            GC.KeepAlive(each);
            return "{\"monitors\":[" + string.Join(",", items.ToArray()) + "]}";
        }
    }

    static void Send(INPUT[] inputs)
    {
        if (inputs.Length == 0) return;
        uint sent = SendInput((uint)inputs.Length, inputs, Marshal.SizeOf(typeof(INPUT)));
        if (sent != inputs.Length) throw new Failure("input-blocked", "Windows did not accept the input (error " + Marshal.GetLastWin32Error() + "); another program may be blocking it");
    }

    public static string Move(int x, int y)
    {
        using (new PerMonitorDpi())
        {
            int vx = GetSystemMetrics(SM_XVIRTUALSCREEN), vy = GetSystemMetrics(SM_YVIRTUALSCREEN);
            int vw = Math.Max(2, GetSystemMetrics(SM_CXVIRTUALSCREEN)), vh = Math.Max(2, GetSystemMetrics(SM_CYVIRTUALSCREEN));
            var move = new INPUT();
            move.type = INPUT_MOUSE;
            // A real input event (hover, drag) on the 0..65535 grid over the virtual screen ...
            move.u.mi.dx = (int)Math.Round((x - vx) * 65535.0 / (vw - 1));
            move.u.mi.dy = (int)Math.Round((y - vy) * 65535.0 / (vh - 1));
            move.u.mi.dwFlags = MOUSEEVENTF_MOVE | MOUSEEVENTF_ABSOLUTE | MOUSEEVENTF_VIRTUALDESK;
            Send(new INPUT[] { move });
            // ... then pinned to the exact pixel, which the grid's rounding may miss by one.
            SetCursorPos(x, y);
            POINT at;
            GetCursorPos(out at);
            return "{\"x\":" + Num(at.X) + ",\"y\":" + Num(at.Y) + "}";
        }
    }

    public static string Position()
    {
        using (new PerMonitorDpi())
        {
            POINT at;
            GetCursorPos(out at);
            return "{\"x\":" + Num(at.X) + ",\"y\":" + Num(at.Y) + "}";
        }
    }

    public static string Scroll(string direction, int clicks)
    {
        var wheel = new INPUT();
        wheel.type = INPUT_MOUSE;
        bool vertical = direction == "up" || direction == "down";
        wheel.u.mi.dwFlags = vertical ? MOUSEEVENTF_WHEEL : MOUSEEVENTF_HWHEEL;
        // WHEEL: positive rotates away from the user (up); HWHEEL: positive tilts right.
        wheel.u.mi.mouseData = (direction == "up" || direction == "right" ? 1 : -1) * clicks * WHEEL_DELTA;
        Send(new INPUT[] { wheel });
        return "{}";
    }

    public static string Type(string base64)
    {
        string text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        var inputs = new List<INPUT>();
        foreach (char c in text)
        {
            for (int up = 0; up < 2; up++)
            {
                var key = new INPUT();
                key.type = INPUT_KEYBOARD;
                key.u.ki.wScan = c;
                key.u.ki.dwFlags = KEYEVENTF_UNICODE | (up == 1 ? KEYEVENTF_KEYUP : 0);
                inputs.Add(key);
            }
        }
        Send(inputs.ToArray());
        return "{}";
    }

    static bool SecureDesktop()
    {
        IntPtr desktop = OpenInputDesktop(0, false, DESKTOP_READOBJECTS);
        if (desktop == IntPtr.Zero) return true;
        CloseDesktop(desktop);
        return false;
    }

    public static string Capture(int x, int y, int width, int height, string path)
    {
        using (new PerMonitorDpi())
        {
            if (SecureDesktop()) throw new Failure("secure-desktop", "the secure desktop is showing");
            using (var bitmap = new Bitmap(width, height, PixelFormat.Format32bppArgb))
            {
                using (var g = Graphics.FromImage(bitmap))
                {
                    try { g.CopyFromScreen(x, y, 0, 0, new Size(width, height), CopyPixelOperation.SourceCopy); }
                    catch (System.ComponentModel.Win32Exception) { throw new Failure("secure-desktop", "the screen cannot be read"); }
                }
                bitmap.Save(path, ImageFormat.Png);
            }
            return "{\"width\":" + Num(width) + ",\"height\":" + Num(height) + "}";
        }
    }

    /** 1 elevated, 0 not, -1 its token cannot be read (a process with more rights than this one). */
    static int Elevation(IntPtr process)
    {
        IntPtr token;
        if (!OpenProcessToken(process, TOKEN_QUERY, out token)) return -1;
        try
        {
            int elevated, size;
            if (!GetTokenInformation(token, TokenElevation, out elevated, 4, out size)) return -1;
            return elevated != 0 ? 1 : 0;
        }
        finally { CloseHandle(token); }
    }

    /** The top-level window at a point (or the foreground window): who owns it and with what rights. */
    public static string Target(bool atPoint, int x, int y)
    {
        using (new PerMonitorDpi())
        {
            bool secure = SecureDesktop();
            IntPtr window = IntPtr.Zero;
            if (atPoint) { var p = new POINT(); p.X = x; p.Y = y; window = GetAncestor(WindowFromPoint(p), GA_ROOT); }
            else window = GetForegroundWindow();
            uint pid = 0;
            string title = "", name = "";
            int elevation = 0;
            if (window != IntPtr.Zero)
            {
                GetWindowThreadProcessId(window, out pid);
                var text = new StringBuilder(256);
                GetWindowText(window, text, text.Capacity);
                title = text.ToString();
                try { name = Process.GetProcessById((int)pid).ProcessName; } catch (Exception) { name = ""; }
                IntPtr process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid);
                if (process == IntPtr.Zero) elevation = -1;
                else { try { elevation = Elevation(process); } finally { CloseHandle(process); } }
            }
            return "{\"secureDesktop\":" + Bool(secure) + ",\"pid\":" + Num((int)pid) + ",\"process\":" + Str(name)
                + ",\"title\":" + Str(title) + ",\"elevation\":" + Num(elevation)
                + ",\"selfElevated\":" + Bool(Elevation(GetCurrentProcess()) == 1) + "}";
        }
    }

    static int Int(string s) { return int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture); }

    public static string Handle(string line)
    {
        string[] f = line.Split('\t');
        string id = f[0];
        try
        {
            string result;
            switch (f.Length > 1 ? f[1] : "")
            {
                case "displays": result = Displays(); break;
                case "move": result = Move(Int(f[2]), Int(f[3])); break;
                case "position": result = Position(); break;
                case "scroll": result = Scroll(f[2], Int(f[3])); break;
                case "type": result = Type(f[2]); break;
                case "capture": result = Capture(Int(f[2]), Int(f[3]), Int(f[4]), Int(f[5]), f[6]); break;
                case "target": result = f.Length > 3 ? Target(true, Int(f[2]), Int(f[3])) : Target(false, 0, 0); break;
                default: throw new Failure("unknown-op", "unknown request");
            }
            return "{\"id\":" + id + ",\"ok\":true,\"result\":" + result + "}";
        }
        catch (Failure e) { return "{\"id\":" + id + ",\"ok\":false,\"code\":" + Str(e.Code) + ",\"error\":" + Str(e.Message) + "}"; }
        catch (Exception e) { return "{\"id\":" + id + ",\"ok\":false,\"code\":\"error\",\"error\":" + Str(e.GetType().Name + ": " + e.Message) + "}"; }
    }
}
`;

/**
 * The PowerShell that reads the C# source (one line of base64, the first thing sent on stdin),
 * compiles it and answers requests until stdin closes. The source travels on stdin because
 * -EncodedCommand would have to fit it into a 32,767-character command line.
 */
export const WINDOWS_HELPER_POWERSHELL = `$ErrorActionPreference = 'Stop'
$source = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadLine()))
Add-Type -ReferencedAssemblies System.Drawing -TypeDefinition $source
[Console]::Out.WriteLine('{"ready":true}')
[Console]::Out.Flush()
while ($true) {
  $line = [Console]::In.ReadLine()
  if ($null -eq $line) { break }
  [Console]::Out.WriteLine([KestrelDesktop]::Handle($line))
  [Console]::Out.Flush()
}
`;

/** powershell.exe's -EncodedCommand takes the script as base64 of UTF-16LE. */
export function encodedCommand(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}

namespace Synack.KernelBench;

/// <summary>A configuration for nginx-light that keeps every path of its own under one directory: no root-owned state, nothing left behind.</summary>
internal static class NginxConfig
{
    /// <param name="dir">Where its pid, log and temporary paths go.</param>
    /// <param name="listen">nginx's listen argument: a port, or an address and port.</param>
    /// <param name="root">The directory it serves.</param>
    public static string Text(string dir, string listen, string root) => $$"""
        daemon off;
        worker_processes 1;
        pid {{dir}}/nginx.pid;
        error_log {{dir}}/error.log;
        events { worker_connections 64; }
        http {
            access_log off;
            sendfile on;
            client_body_temp_path {{dir}}/body;
            proxy_temp_path {{dir}}/proxy;
            fastcgi_temp_path {{dir}}/fastcgi;
            uwsgi_temp_path {{dir}}/uwsgi;
            scgi_temp_path {{dir}}/scgi;
            server { listen {{listen}}; root {{root}}; }
        }
        """;
}

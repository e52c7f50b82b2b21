function results = analyze_signals(files, options)
%ANALYZE_SIGNALS Load signal files and compute summary statistics.
%   RESULTS = ANALYZE_SIGNALS(FILES, OPTIONS) reads each file in the
%   cell array FILES and returns a struct array with basic statistics.

arguments
    files cell
    options.Threshold (1,1) double = 0.5
    options.Verbose (1,1) logical = false
end

results = struct('name', {}, 'mean', {}, 'peak', {}, 'above', {});
window = [0.25 0.5 0.25];

for k = 1:numel(files)
    name = files{k};
    try
        data = load(name);
    catch err
        warning('analyze:load', 'Could not load %s: %s', name, err.message);
        continue
    end

    signal = conv(data.signal(:), window, 'same');
    above = signal > options.Threshold;

    entry.name = name;
    entry.mean = mean(signal);
    entry.peak = max(abs(signal));
    entry.above = sum(above);
    results(end + 1) = entry; %#ok<AGROW>

    if options.Verbose
        fprintf('%-20s mean=%8.3f peak=%8.3f\n', name, entry.mean, entry.peak);
    elseif entry.peak > 10 * options.Threshold
        disp(['Large peak in ', name]);
    else
        % nothing to report
    end
end

switch numel(results)
    case 0
        error('analyze:empty', 'No files could be analysed.');
    case {1, 2}
        disp('Only a few files analysed.');
    otherwise
        fprintf('%d files analysed\n', numel(results));
end

counts = zeros(1, 3);
idx = 1;
while idx <= 3 && idx <= numel(results)
    counts(idx) = results(idx).above;
    idx = idx + 1;
end

M = [1, 2, 3; 4, 5, 6]';
scaled = M .* 2 - 1;
label = "summary";
f = @(x) x.^2 + 1;
disp(f(scaled(1, :)));
disp(label);
end

function y = normalize_signal(x)
% Scale a signal to the range [-1, 1].
    peak = max(abs(x));
    if peak == 0
        y = x;
        return;
    end
    y = x ./ peak;
end

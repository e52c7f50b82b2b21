#import <Foundation/Foundation.h>
#import "TaskQueue.h"

// A small task queue with priorities and completion callbacks.
typedef enum {
    TaskPriorityLow = 0,
    TaskPriorityNormal = 1,
    TaskPriorityHigh = 2
} TaskPriority;

@interface Task : NSObject
@property (nonatomic, copy) NSString *name;
@property (nonatomic, assign) TaskPriority priority;
@property (nonatomic, copy) void (^completion)(BOOL success);
- (instancetype)initWithName:(NSString *)name priority:(TaskPriority)priority;
@end

@implementation Task

- (instancetype)initWithName:(NSString *)name priority:(TaskPriority)priority {
    self = [super init];
    if (self) {
        _name = [name copy];
        _priority = priority;
    }
    return self;
}

- (NSString *)description {
    return [NSString stringWithFormat:@"<Task %@ p=%ld>", self.name, (long)self.priority];
}

@end

@implementation TaskQueue {
    NSMutableArray<Task *> *_tasks;
}

- (instancetype)init {
    if ((self = [super init])) {
        _tasks = [NSMutableArray array];
    }
    return self;
}

- (void)enqueue:(Task *)task {
    [_tasks addObject:task];
    [_tasks sortUsingComparator:^NSComparisonResult(Task *a, Task *b) {
        if (a.priority > b.priority) {
            return NSOrderedAscending;
        }
        return a.priority < b.priority ? NSOrderedDescending : NSOrderedSame;
    }];
}

- (NSUInteger)drainWithError:(NSError **)error {
    NSUInteger count = 0;
    while (_tasks.count > 0) {
        Task *task = _tasks.firstObject;
        [_tasks removeObjectAtIndex:0];
        @try {
            NSLog(@"running %@", task);
            if (task.completion) {
                task.completion(YES);
            }
            count++;
        } @catch (NSException *exception) {
            if (error) {
                *error = [NSError errorWithDomain:@"TaskQueue" code:42 userInfo:@{@"reason": exception.reason ?: @"unknown"}];
            }
            return count;
        }
    }
    return count;
}

@end

int main(int argc, const char *argv[]) {
    @autoreleasepool {
        TaskQueue *queue = [[TaskQueue alloc] init];
        NSArray *names = @[@"build", @"test", @"deploy"];
        for (NSString *name in names) {
            Task *t = [[Task alloc] initWithName:name priority:TaskPriorityNormal];
            [queue enqueue:t];
        }
        NSError *err = nil;
        NSUInteger n = [queue drainWithError:&err];
        NSLog(@"ran %lu tasks, error: %@", (unsigned long)n, err);
    }
    return 0;
}
